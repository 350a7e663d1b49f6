#!/usr/bin/env bash
# Regenerates the media of the demo course "checking-what-you-see-online":
# four flat illustrations (ImageMagick, no text in them) and the narration
# "stop-and-think" in every locale (espeak-ng at -s 135, then oggenc -q 1).
# The narration text is read from the course's locale files, so each file
# speaks exactly its locale's transcript.
#
# Run from the repository root:
#   scripts/demo-media/checking-what-you-see-online.sh
# Needs: convert (ImageMagick 6), espeak-ng, oggenc, python3.
set -euo pipefail

course=courses/demo/checking-what-you-see-online
out="$course/media"
[ -f "$course/course.yaml" ] || { echo "run me from the repository root" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

W=960
H=540

# Palette.
BG='#FDF3E1'   # cream background
DARK='#264653' # phones, outlines
TEAL='#2A9D8F'
YELLOW='#E9C46A'
ORANGE='#F4A261'
CORAL='#E76F51'
RED='#D62828'
BLUE='#457B9D'
PURPLE='#8E6CC9'
SKY='#A8DADC'
PALE='#EAF4F4'

# png NAME MVG: draws MVG on the background and writes a small, stripped,
# timestamp-free palette PNG (so a re-run gives the same bytes).
png() {
  convert -size "${W}x${H}" "xc:$BG" -draw "$2" -strip -dither None -colors 48 \
    -define png:exclude-chunks=date,time "PNG8:$out/$1"
}

# person X Y SKIN SHIRT HAIR: a head (circle) over a rounded body; HAIR is a
# hair colour, or "scarf:COLOUR" for a head scarf.
person() {
  local x=$1 y=$2 skin=$3 shirt=$4 hair=$5
  echo "fill $shirt stroke none roundrectangle $((x-50)),$((y+40)) $((x+50)),$((y+150)) 42,42"
  if [[ $hair == scarf:* ]]; then
    echo "fill ${hair#scarf:} circle $x,$((y+2)) $((x+42)),$((y+2))"
    echo "fill ${hair#scarf:} roundrectangle $((x-42)),$y $((x+42)),$((y+62)) 26,26"
    echo "fill $skin circle $x,$((y+6)) $((x+26)),$((y+6))"
  else
    echo "fill $skin circle $x,$y $((x+34)),$y"
    echo "fill $hair ellipse $x,$((y-6)) 36,30 180,360"
  fi
}

# arrow X1 Y1 X2 Y2 COLOUR [DASHED]: a thick line with a triangular head at X2,Y2.
arrow() {
  awk -v x1="$1" -v y1="$2" -v x2="$3" -v y2="$4" -v c="$5" -v dash="${6:-}" 'BEGIN {
    dx = x2 - x1; dy = y2 - y1; l = sqrt(dx*dx + dy*dy); ux = dx / l; uy = dy / l
    bx = x2 - 30*ux; by = y2 - 30*uy
    d = (dash != "") ? "stroke-dasharray 16 12 " : ""
    printf "push graphic-context fill none stroke %s stroke-width 8 stroke-linecap round %sline %d,%d %d,%d pop graphic-context\n", c, d, x1, y1, bx, by
    printf "fill %s stroke none polygon %d,%d %d,%d %d,%d\n", c, x2, y2, bx - 16*uy, by + 16*ux, bx + 16*uy, by - 16*ux
  }'
}

# bubble X1 Y1 X2 Y2 COLOUR TAILX TAILY [OUTLINE]: a rounded speech bubble
# whose tail points to TAILX,TAILY (from the middle of its bottom edge).
bubble() {
  local x1=$1 y1=$2 x2=$3 y2=$4 c=$5 tx=$6 ty=$7 o=${8:-}
  local mx=$(((x1+x2)/2))
  if [ -n "$o" ]; then
    echo "push graphic-context fill $o stroke $o stroke-width 10 stroke-linejoin round"
    echo "roundrectangle $x1,$y1 $x2,$y2 16,16 polygon $((mx-14)),$((y2-2)) $((mx+14)),$((y2-2)) $tx,$ty"
    echo "pop graphic-context"
  fi
  echo "fill $c stroke none roundrectangle $x1,$y1 $x2,$y2 16,16"
  echo "fill $c polygon $((mx-14)),$((y2-2)) $((mx+14)),$((y2-2)) $tx,$ty"
}

# landscape X Y SCALE SKYC SUNC BACKC FRONTC: a small photo of mountains
# under a sun, 160x120 at scale 1.
landscape() {
  awk -v x="$1" -v y="$2" -v s="$3" -v sky="$4" -v sun="$5" -v back="$6" -v front="$7" 'BEGIN {
    printf "fill %s stroke none rectangle %d,%d %d,%d\n", sky, x, y, x + 160*s, y + 120*s
    printf "fill %s circle %d,%d %d,%d\n", sun, x + 122*s, y + 32*s, x + 122*s + 16*s, y + 32*s
    printf "fill %s polygon %d,%d %d,%d %d,%d %d,%d\n", back, x, y + 120*s, x + 62*s, y + 48*s, x + 118*s, y + 120*s, x, y + 120*s
    printf "fill %s polygon %d,%d %d,%d %d,%d %d,%d %d,%d\n", front, x + 40*s, y + 120*s, x + 105*s, y + 58*s, x + 160*s, y + 104*s, x + 160*s, y + 120*s, x + 40*s, y + 120*s
  }'
}

# --- 1. one-message-many-phones.png: one phone forwards the same bubble to four people.
mvg=$(
  echo "fill #F3E6CC stroke none circle 480,270 480,30"
  # phone
  echo "fill $DARK roundrectangle 420,125 540,415 22,22"
  echo "fill $PALE roundrectangle 432,150 528,385 8,8"
  echo "fill #3D6A7A roundrectangle 462,135 498,141 3,3"
  echo "fill #3D6A7A circle 480,400 480,407"
  bubble 442 180 518 240 "$ORANGE" 452 256
  echo "fill #FFF3E6 roundrectangle 452,195 508,204 4,4"
  echo "fill #FFF3E6 roundrectangle 452,216 494,225 4,4"
  echo "fill #CFE3E3 roundrectangle 458,280 518,320 12,12"
  echo "fill #CFE3E3 roundrectangle 446,335 500,365 12,12"
  # people, each with the same bubble
  person 150 135 '#8D5524' "$TEAL" '#2B2118'
  bubble 218 48 286 98 "$ORANGE" 196 122
  person 150 395 '#E0AC69' "$CORAL" '#5A3A22'
  bubble 218 308 286 358 "$ORANGE" 196 382
  person 810 135 '#F1C27D' "$YELLOW" "scarf:$PURPLE"
  bubble 674 48 742 98 "$ORANGE" 764 122
  person 810 395 '#C68642' "$BLUE" '#2B2118'
  bubble 674 308 742 358 "$ORANGE" 764 382
  arrow 410 200 300 160 "$DARK" dashed
  arrow 410 340 300 395 "$DARK" dashed
  arrow 550 200 660 160 "$DARK" dashed
  arrow 550 340 660 395 "$DARK" dashed
)
png one-message-many-phones.png "$mvg"

# --- 2. reverse-image-search.png: a photo on a phone under a magnifying glass,
# arrows to three copies on the right; the lowest is old (faded, with a clock).
mvg=$(
  echo "fill $DARK stroke none roundrectangle 110,50 330,490 28,28"
  echo "fill #FFFFFF roundrectangle 126,80 314,460 10,10"
  echo "fill #3D6A7A roundrectangle 195,62 245,68 3,3"
  landscape 140 180 1.0 "$SKY" "$YELLOW" '#6BBF8A' "$TEAL"
  echo "fill #D9D9D9 roundrectangle 140,320 300,332 5,5"
  echo "fill #D9D9D9 roundrectangle 140,346 260,358 5,5"
  # magnifying glass
  echo "push graphic-context fill none stroke #8B5E3C stroke-width 26 stroke-linecap round line 318,312 398,392 pop graphic-context"
  echo "push graphic-context fill #FFFFFF fill-opacity 0.25 stroke $DARK stroke-width 16 circle 262,252 262,176 pop graphic-context"
  # three copies
  for y in 35 205 375; do
    echo "fill #E6D9BF stroke none roundrectangle 628,$((y+8)) 848,$((y+138)) 14,14"
    echo "fill #FFFFFF roundrectangle 620,$y 840,$((y+130)) 14,14"
  done
  landscape 632 45 0.7 "$SKY" "$YELLOW" '#6BBF8A' "$TEAL"
  echo "fill #D9D9D9 roundrectangle 760,60 826,70 5,5"
  echo "fill #D9D9D9 roundrectangle 760,84 810,94 5,5"
  landscape 632 215 0.7 "$SKY" "$YELLOW" '#6BBF8A' "$TEAL"
  echo "fill #D9D9D9 roundrectangle 760,230 826,240 5,5"
  echo "fill #D9D9D9 roundrectangle 760,254 810,264 5,5"
  landscape 632 385 0.7 '#E8D5B5' '#D9C49A' '#C2A57E' '#A68A64'
  echo "fill #E3D6C0 roundrectangle 760,400 826,410 5,5"
  echo "fill #E3D6C0 roundrectangle 760,424 810,434 5,5"
  # clock next to the old copy
  echo "fill #FFFFFF stroke $DARK stroke-width 7 circle 900,440 900,404"
  echo "push graphic-context stroke $DARK stroke-width 6 stroke-linecap round line 900,440 900,418 line 900,440 916,448 pop graphic-context"
  arrow 420 180 600 100 "$CORAL"
  arrow 430 270 600 270 "$CORAL"
  arrow 420 360 600 440 "$CORAL"
)
png reverse-image-search.png "$mvg"

# --- 3. keep-your-code.png: a phone with a secret code; the arrow to a grey
# stranger holding a banknote is blocked by a red "no" sign.
mvg=$(
  echo "fill $DARK stroke none roundrectangle 90,70 290,470 26,26"
  echo "fill $PALE roundrectangle 105,100 275,440 10,10"
  echo "fill #3D6A7A roundrectangle 165,82 215,88 3,3"
  bubble 118 140 262 220 "$YELLOW" 140 236
  for i in 0 1 2 3 4 5; do
    echo "fill $DARK circle $((135 + i*22)),180 $((135 + i*22 + 7)),180"
  done
  # padlock
  echo "push graphic-context fill none stroke $DARK stroke-width 9 ellipse 190,300 22,26 180,360 line 168,300 168,312 line 212,300 212,312 pop graphic-context"
  echo "fill $DARK roundrectangle 155,308 225,360 8,8"
  echo "fill $PALE circle 190,330 190,338"
  # stranger with a hat, holding out a banknote
  echo "fill #CDE5B9 stroke none rectangle 0,500 960,540"
  echo "fill #8A8F94 roundrectangle 770,240 890,420 46,46"
  echo "push graphic-context fill none stroke #8A8F94 stroke-width 26 stroke-linecap round line 785,290 730,320 pop graphic-context"
  echo "fill #A7ACB0 circle 830,190 830,150"
  echo "fill #5F6468 roundrectangle 778,152 882,164 6,6"
  echo "fill #5F6468 roundrectangle 798,110 862,158 10,10"
  echo "push graphic-context fill #6BBF59 stroke #4E9A40 stroke-width 4 roundrectangle 640,290 740,345 6,6 pop graphic-context"
  echo "fill #4E9A40 circle 690,317 690,332"
  echo "fill #A7ACB0 circle 728,322 728,338"
  echo "push graphic-context fill #E9B949 stroke #C99A2E stroke-width 3 circle 740,455 740,433 circle 788,470 788,448 pop graphic-context"
  # dashed arrow from the phone, stopped by the sign
  arrow 300 260 396 260 "$DARK" dashed
  echo "push graphic-context fill #FFFFFF stroke $RED stroke-width 22 circle 500,260 500,180 line 444,204 556,316 pop graphic-context"
)
png keep-your-code.png "$mvg"

# --- 4. friends-talking.png: two friends on a bench, a heart and a tick.
mvg=$(
  echo "fill #CDE5B9 stroke none rectangle 0,450 960,540"
  # sun with rays
  echo "fill $YELLOW circle 110,100 110,50"
  awk 'BEGIN { for (a = 0; a < 360; a += 45) { r = a * 3.14159265 / 180;
    printf "push graphic-context stroke #E9C46A stroke-width 8 stroke-linecap round line %d,%d %d,%d pop graphic-context\n",
      110 + 64*cos(r), 100 + 64*sin(r), 110 + 86*cos(r), 100 + 86*sin(r) } }'
  # bench: back, seat, legs
  echo "fill #9C6B46 rectangle 300,385 318,470"
  echo "fill #9C6B46 rectangle 642,385 660,470"
  echo "fill #B5835A roundrectangle 250,290 710,312 8,8"
  echo "fill #B5835A roundrectangle 250,322 710,344 8,8"
  # people sitting (legs first, then bodies over the bench back)
  echo "fill $DARK roundrectangle 362,360 388,462 10,10"
  echo "fill $DARK roundrectangle 404,360 430,462 10,10"
  echo "fill $BLUE roundrectangle 536,360 562,462 10,10"
  echo "fill $BLUE roundrectangle 578,360 604,462 10,10"
  echo "fill $TEAL roundrectangle 346,248 446,385 40,40"
  echo "fill #8D5524 circle 396,210 430,210"
  echo "fill #2B2118 ellipse 396,204 36,30 180,360"
  echo "fill $YELLOW roundrectangle 520,248 620,385 40,40"
  echo "fill $CORAL circle 570,214 614,214"
  echo "fill $CORAL polygon 530,224 610,224 600,268 540,268"
  echo "fill #E0AC69 circle 570,216 597,216"
  echo "fill #B5835A roundrectangle 250,365 710,387 8,8"
  # phone in the first friend's hands
  echo "fill $DARK roundrectangle 418,300 446,348 5,5"
  echo "fill $PALE roundrectangle 422,306 442,340 3,3"
  echo "fill #8D5524 circle 432,352 432,341"
  # speech bubbles: heart and tick
  bubble 230 40 380 140 "#FFFFFF" 340 172 "$DARK"
  echo "fill $RED circle 290,80 290,60"
  echo "fill $RED circle 322,80 322,60"
  echo "fill $RED polygon 272,90 340,90 306,126"
  bubble 580 40 730 140 "#FFFFFF" 610 172 "$DARK"
  echo "push graphic-context fill none stroke $TEAL stroke-width 16 stroke-linecap round stroke-linejoin round polyline 622,92 645,115 690,66 pop graphic-context"
)
png friends-talking.png "$mvg"

# --- Narration "stop-and-think", one file per locale, spoken from the
# transcript in that locale's file.
declare -A voice=([en]=en-gb [fr]=fr-fr [ar]=ar [uk]=uk [fa]=fa)
serial=4100
for loc in en fr ar uk fa; do
  serial=$((serial + 1))
  python3 - "$course/locales/$loc.json" check.source.narration.transcript >"$tmp/$loc.txt" <<'PY'
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))[sys.argv[2]]
sys.stdout.write(m if isinstance(m, str) else m["other"])
PY
  espeak-ng -v "${voice[$loc]}" -s 135 -w "$tmp/$loc.wav" -f "$tmp/$loc.txt"
  # A fixed serial number keeps the Ogg bytes the same on every run.
  oggenc -Q -q 1 --serial "$serial" -o "$out/stop-and-think.$loc.ogg" "$tmp/$loc.wav"
done

ls -l "$out"
