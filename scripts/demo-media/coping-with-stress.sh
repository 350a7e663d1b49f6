#!/usr/bin/env bash
# Regenerates the media of the demo course "coping-with-stress":
#   - four flat-colour illustrations (960x540 PNG, no text in the picture)
#   - the guided breathing narration in every locale (espeak-ng -> Ogg Vorbis)
#
# Run from the repository root:
#   bash scripts/demo-media/coping-with-stress.sh
#
# Needs: ImageMagick 6 (convert), espeak-ng with the voices en-gb, fr-fr, ar,
# uk and fa, oggenc (vorbis-tools) and jq. The narration text is read from the
# transcript message of each locale file, so the audio always says exactly
# what the transcript shows. Running it again gives the same files.
set -euo pipefail

COURSE=courses/demo/coping-with-stress
OUT="$COURSE/media"
TRANSCRIPT_ID=things-that-help.calm-your-body.breathing.transcript

for tool in convert espeak-ng oggenc jq; do
	command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
[[ -f "$COURSE/course.yaml" ]] || { echo "run me from the repository root" >&2; exit 1; }
mkdir -p "$OUT"

# --- colours -----------------------------------------------------------------
INK='#2B2D42'      # eyes, mouths, outlines
SKIN1='#8D5524'; SKIN2='#C68642'; SKIN3='#E0AC69'; SKIN4='#F1C27D'
HAIR='#3B2A20'
TEAL='#2A9D8F'; BLUE='#264653'; YELLOW='#E9C46A'; ORANGE='#F4A261'; CORAL='#E76F51'
PURPLE='#7B6BA8'; GREEN='#6AAB5E'; LEAF='#4F8F4A'

# --- drawing helpers (each prints MVG drawing commands) ------------------------

# face X Y MOOD: eyes and mouth on a head centred at X,Y (radius about 42).
# MOOD: happy | worried | calm (eyes closed, small smile)
face() {
	local x=$1 y=$2 mood=$3
	# Curves are drawn as thin filled crescents: ImageMagick 6 closes wide
	# open strokes.
	case $mood in
	happy)
		echo "stroke none fill $INK circle $((x-15)),$((y-6)) $((x-15)),$((y-1))"
		echo "circle $((x+15)),$((y-6)) $((x+15)),$((y-1))"
		echo "path 'M $((x-15)),$((y+12)) Q $x,$((y+29)) $((x+15)),$((y+12)) Q $x,$((y+20)) $((x-15)),$((y+12)) Z'"
		;;
	worried)
		echo "stroke none fill $INK circle $((x-15)),$((y-4)) $((x-15)),$((y+1))"
		echo "circle $((x+15)),$((y-4)) $((x+15)),$((y+1))"
		echo "path 'M $((x-12)),$((y+23)) Q $x,$((y+9)) $((x+12)),$((y+23)) Q $x,$((y+15)) $((x-12)),$((y+23)) Z'"
		echo "stroke $INK stroke-width 4 stroke-linecap round line $((x-25)),$((y-14)) $((x-8)),$((y-20))"
		echo "line $((x+8)),$((y-20)) $((x+25)),$((y-14))"
		;;
	calm)
		echo "stroke none fill $INK"
		echo "path 'M $((x-24)),$((y-5)) Q $((x-15)),$((y+5)) $((x-6)),$((y-5)) Q $((x-15)),$((y))   $((x-24)),$((y-5)) Z'"
		echo "path 'M $((x+6)),$((y-5)) Q $((x+15)),$((y+5)) $((x+24)),$((y-5)) Q $((x+15)),$((y)) $((x+6)),$((y-5)) Z'"
		echo "path 'M $((x-11)),$((y+15)) Q $x,$((y+25)) $((x+11)),$((y+15)) Q $x,$((y+20)) $((x-11)),$((y+15)) Z'"
		;;
	esac
}

# head X Y SKIN HAIRSTYLE: HAIRSTYLE is short | scarf:COLOUR | none
head() {
	local x=$1 y=$2 skin=$3 style=$4
	case $style in
	scarf:*)
		local c=${style#scarf:}
		echo "stroke none fill $c circle $x,$((y+2)) $x,$((y-52))"
		echo "roundrectangle $((x-52)),$((y+10)) $((x+52)),$((y+70)) 20,20"
		echo "fill $skin ellipse $x,$((y+4)) 34,40 0,360"
		;;
	short)
		echo "stroke none fill $skin circle $x,$y $x,$((y-42))"
		echo "fill $HAIR ellipse $x,$((y-21)) 45,27 180,360"
		echo "ellipse $((x-37)),$((y-14)) 8,15 0,360"
		echo "ellipse $((x+37)),$((y-14)) 8,15 0,360"
		;;
	*)
		echo "stroke none fill $skin circle $x,$y $x,$((y-42))"
		;;
	esac
}

# body X TOP BOTTOM SHIRT: a rounded body under a head centred at X
body() {
	local x=$1 top=$2 bottom=$3 shirt=$4
	echo "stroke none fill $shirt roundrectangle $((x-62)),$top $((x+62)),$bottom 46,46"
}

# render NAME BACKGROUND MVG...: draws and writes media/NAME.png
render() {
	local name=$1 bg=$2; shift 2
	local mvg; mvg=$(printf '%s\n' "$@")
	convert -size 960x540 "xc:$bg" -draw "$mvg" \
		+dither -colors 64 -strip -define png:exclude-chunks=date,time \
		"PNG8:$OUT/$name.png"
}

# --- 1. stress.png: a worried young person under a small rain cloud, a phone
# with a red dot on the left and a pile of papers on the right ---------------
render stress '#FDF1E3' \
	"stroke none fill #EAD7C0 rectangle 0,440 960,540" \
	"$(body 480 262 450 "$TEAL")" \
	"$(head 480 210 "$SKIN2" short)" \
	"$(face 480 212 worried)" \
	"stroke none fill #9AA5B1 circle 430,95 430,55 circle 490,75 490,25 circle 548,100 548,62" \
	"roundrectangle 390,88 590,135 24,24" \
	"fill #5B8DB8 ellipse 430,152 5,9 0,360 ellipse 480,160 5,9 0,360 ellipse 530,150 5,9 0,360" \
	"stroke none fill $YELLOW polygon 508,112 490,142 503,142 494,170 518,134 505,134 516,112" \
	"stroke none fill $BLUE roundrectangle 190,250 290,430 16,16" \
	"fill #A8DADC roundrectangle 202,272 278,398 6,6" \
	"fill #FFFFFF roundrectangle 210,284 262,304 6,6 roundrectangle 218,316 270,336 6,6 roundrectangle 210,348 258,368 6,6" \
	"fill #E63946 circle 288,252 288,236" \
	"stroke none fill $BLUE path 'M 160,300 Q 144,340 160,380 Q 152,340 160,300 Z' path 'M 140,288 Q 120,340 140,392 Q 130,340 140,288 Z'" \
	"stroke none fill #D9D2C5 polygon 660,300 790,288 800,428 670,440" \
	"fill #F1ECE2 polygon 668,312 798,312 798,440 668,440" \
	"fill #FFFFFF polygon 650,330 780,322 788,450 658,458" \
	"stroke #B8C4CF stroke-width 6 stroke-linecap round line 675,355 760,350 line 676,380 765,375 line 678,405 740,401" \
	"stroke none fill $CORAL roundrectangle 700,420 770,438 6,6"

# --- 2. breathing.png: a young person sits with eyes closed and hands on the
# belly, soft circles around them, a sun and a plant ------------------------
render breathing '#E8F4F1' \
	"stroke none fill #B7D7A8 rectangle 0,430 960,540" \
	"fill #F4C95D circle 850,95 850,45" \
	"stroke #F4C95D stroke-width 6 stroke-linecap round line 850,20 850,30 line 850,160 850,170 line 775,95 785,95 line 915,95 925,95 line 797,42 804,49 line 896,141 903,148 line 797,148 804,141 line 896,49 903,42" \
	"stroke none fill #D3ECE6 circle 480,300 480,70" \
	"fill #BFE3DA circle 480,300 480,110" \
	"fill #A9D9CD circle 480,300 480,150" \
	"fill $BLUE ellipse 480,415 120,34 0,360" \
	"$(body 480 262 420 "$ORANGE")" \
	"stroke #DB8A4E stroke-width 24 stroke-linecap round line 428,292 440,338 line 532,292 520,338 line 440,338 462,350 line 520,338 498,350" \
	"stroke none fill $SKIN1 circle 466,350 466,336 circle 494,350 494,336" \
	"$(head 480 210 "$SKIN1" short)" \
	"$(face 480 212 calm)" \
	"stroke none fill #C8553D polygon 130,380 210,380 200,440 140,440" \
	"stroke $LEAF stroke-width 6 line 170,380 170,300" \
	"stroke none fill $GREEN ellipse 145,320 30,14 20,360 ellipse 195,300 30,14 0,360 ellipse 150,275 26,12 0,360 ellipse 190,340 26,12 0,360"

# --- 3. routine.png: night on the left (moon, stars, a person asleep in bed),
# day on the right (sun, a tree, a person stretching their arms up) ----------
render routine '#FFF1D6' \
	"stroke none fill #2B3A67 rectangle 0,0 480,540" \
	"fill #F6E7A1 circle 380,95 380,50" \
	"fill #2B3A67 circle 400,80 400,40" \
	"fill #FFFFFF circle 90,70 90,66 circle 180,130 180,126 circle 260,60 260,57 circle 60,190 60,187 circle 300,180 300,177" \
	"fill #1F2A4D rectangle 0,440 480,540" \
	"fill #8D6E63 roundrectangle 60,300 90,440 8,8 roundrectangle 390,350 420,440 8,8" \
	"fill #A1887F roundrectangle 60,380 420,420 10,10" \
	"fill #ECEFF1 roundrectangle 80,350 410,385 10,10" \
	"fill #FFFFFF ellipse 140,335 48,24 0,360" \
	"$(head 140 310 "$SKIN3" short)" \
	"$(face 140 312 calm)" \
	"stroke none fill $PURPLE roundrectangle 175,318 405,380 22,22" \
	"fill #9C8FC4 roundrectangle 175,318 205,380 10,10" \
	"fill #F4C95D circle 880,80 880,38" \
	"fill #A3CF8F rectangle 480,440 960,540" \
	"fill #8D6E63 roundrectangle 858,260 886,450 8,8" \
	"fill $GREEN circle 872,230 872,150 circle 820,270 820,220 circle 925,270 925,220" \
	"stroke $YELLOW stroke-width 28 stroke-linecap round line 615,290 565,165 line 705,290 755,165" \
	"stroke none fill $SKIN4 circle 563,158 563,140 circle 757,158 757,140" \
	"fill $BLUE roundrectangle 618,380 652,470 14,14 roundrectangle 668,380 702,470 14,14" \
	"$(body 660 252 410 "$YELLOW")" \
	"$(head 660 200 "$SKIN4" scarf:"$CORAL")" \
	"$(face 660 206 happy)"

# --- 4. support.png: two young people sit on a bench and talk; above them a
# speech bubble with three dots and one with a heart -------------------------
render support '#FDEBD3' \
	"stroke none fill #E3C9A8 rectangle 0,470 960,540" \
	"fill #7A4E2D roundrectangle 270,405 290,480 6,6 roundrectangle 670,405 690,480 6,6" \
	"fill $BLUE roundrectangle 335,380 365,478 14,14 roundrectangle 378,380 408,478 14,14" \
	"fill $PURPLE roundrectangle 555,380 585,478 14,14 roundrectangle 598,380 628,478 14,14" \
	"fill #A1683A roundrectangle 240,378 720,408 10,10" \
	"$(body 370 262 395 "$TEAL")" \
	"$(head 370 210 "$SKIN1" short)" \
	"$(face 370 212 happy)" \
	"$(body 592 262 395 "$CORAL")" \
	"$(head 592 210 "$SKIN3" scarf:"$BLUE")" \
	"$(face 592 214 happy)" \
	"stroke none fill #FFFFFF ellipse 270,95 105,58 0,360 polygon 300,140 345,140 350,172" \
	"fill #FFFFFF ellipse 700,95 105,58 0,360 polygon 615,140 660,140 612,172" \
	"fill $TEAL circle 230,95 230,83 circle 270,95 270,83 circle 310,95 310,83" \
	"fill $CORAL circle 686,84 686,66 circle 714,84 714,66 polygon 668,88 732,88 700,128"

# --- audio: the guided breathing exercise, one file per locale ---------------
# locale:espeak-voice
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for pair in en:en-gb fr:fr-fr ar:ar uk:uk fa:fa; do
	loc=${pair%%:*} voice=${pair#*:}
	jq -er --arg id "$TRANSCRIPT_ID" '.[$id] | if type == "object" then .other else . end' \
		"$COURSE/locales/$loc.json" >"$TMP/$loc.txt"
	espeak-ng -v "$voice" -s 135 -g 4 -f "$TMP/$loc.txt" -w "$TMP/$loc.wav"
	oggenc -Q -q 1 --serial 1 -o "$OUT/breathing.$loc.ogg" "$TMP/$loc.wav"
done

ls -l "$OUT"
