#!/usr/bin/env bash
# Regenerates the media of the demo course "talking-at-work":
#   - three flat illustrations (960x540 PNG, no text in them), drawn with ImageMagick;
#   - the narration of lesson "active-listening" in every locale, spoken by espeak-ng
#     from the transcript in locales/<locale>.json and encoded to Ogg Vorbis.
# Run from the repository root:  bash scripts/demo-media/talking-at-work.sh
# Needs: convert (ImageMagick 6), espeak-ng, oggenc, jq.
set -euo pipefail

COURSE=courses/demo/talking-at-work
MEDIA="$COURSE/media"
[[ -f "$COURSE/course.yaml" ]] || { echo "run from the repository root" >&2; exit 1; }
for tool in convert espeak-ng oggenc jq; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
mkdir -p "$MEDIA"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Common PNG output options: no metadata, no time chunks, limited palette.
png_out() {
  convert "$1" -strip -define png:exclude-chunks=date,time,tIME \
    -dither None -colors 48 PNG8:"$2"
}

# ---------------------------------------------------------------------------
# 1. listening.png: a supervisor explains, a young woman listens and takes notes.
convert -size 960x540 xc:'#FFF3E0' \
  -fill '#F1D3A8' -draw 'rectangle 0,440 960,540' \
  `# shelves with boxes on the wall` \
  -fill '#B07A4A' -draw 'rectangle 40,150 230,162' -draw 'rectangle 760,170 930,182' \
  -fill '#E9C46A' -draw 'roundrectangle 55,90 115,150 6,6' \
  -fill '#90BE6D' -draw 'roundrectangle 125,110 175,150 6,6' \
  -fill '#F4A261' -draw 'roundrectangle 185,120 220,150 6,6' \
  -fill '#8ECAE6' -draw 'roundrectangle 775,115 840,170 6,6' \
  -fill '#E9C46A' -draw 'roundrectangle 850,130 910,170 6,6' \
  `# supervisor (left): blue top, short hair, talking and pointing` \
  -fill '#3A6EA5' -draw 'roundrectangle 245,285 415,600 45,45' \
  -stroke '#3A6EA5' -strokewidth 34 -draw 'stroke-linecap round line 395,330 470,280' -stroke none \
  -fill '#8D5524' -draw 'circle 478,272 478,290' \
  -fill '#8D5524' -draw 'circle 330,205 330,267' \
  -fill '#2B2B2B' -draw 'ellipse 330,178 64,36 180,360' \
  -fill '#222222' -draw 'circle 308,210 308,216' -draw 'circle 352,210 352,216' \
  -fill '#5A2A1A' -draw 'ellipse 330,240 13,9 0,360' \
  `# speech bubble with three dots` \
  -fill white -stroke '#444444' -strokewidth 4 \
  -draw 'polygon 430,140 470,140 405,185' \
  -draw 'roundrectangle 400,40 630,150 30,30' \
  -stroke none -draw 'rectangle 426,146 447,153' \
  -fill '#3A6EA5' -draw 'circle 465,95 465,108' -draw 'circle 515,95 515,108' -draw 'circle 565,95 565,108' \
  `# listener (right): orange top, teal headscarf, notebook` \
  -fill '#E07A3F' -draw 'roundrectangle 565,295 735,600 45,45' \
  -fill '#2A9D8F' -draw 'circle 650,215 650,293' -draw 'polygon 585,240 715,240 748,330 552,330' \
  -fill '#E0AC69' -draw 'ellipse 650,222 48,56 0,360' \
  -fill '#222222' -draw 'circle 632,215 632,221' -draw 'circle 668,215 668,221' \
  -fill none -stroke '#5A2A1A' -strokewidth 4 -draw 'arc 630,228 670,256 20,160' -stroke none \
  -fill white -stroke '#555555' -strokewidth 3 -draw 'roundrectangle 598,370 702,455 8,8' -stroke none \
  -stroke '#8AA1B1' -strokewidth 4 \
  -draw 'line 615,392 685,392' -draw 'line 615,412 685,412' -draw 'line 615,432 660,432' -stroke none \
  -fill '#E0AC69' -draw 'circle 598,445 598,463' -draw 'circle 702,445 702,463' \
  "$TMP/listening.png"
png_out "$TMP/listening.png" "$MEDIA/listening.png"

# ---------------------------------------------------------------------------
# 2. on-time.png: early morning at a bus stop; a young man sends a message on his phone.
convert -size 960x540 xc:'#CFE8F3' \
  -fill '#FFD166' -draw 'circle 880,420 880,320' \
  -fill '#A7C957' -draw 'rectangle 0,420 960,540' \
  -fill '#BDBDBD' -draw 'rectangle 0,465 960,540' \
  `# houses` \
  -fill '#8FA9C4' -draw 'rectangle 20,200 140,420' \
  -fill '#A3B8CF' -draw 'rectangle 150,250 250,420' \
  -fill '#FFF3B0' -draw 'rectangle 40,225 70,255' -draw 'rectangle 90,225 120,255' \
  -draw 'rectangle 40,285 70,315' -draw 'rectangle 90,285 120,315' \
  -draw 'rectangle 170,275 200,305' -draw 'rectangle 210,275 235,305' \
  `# bus stop sign with a small bus symbol` \
  -stroke '#555555' -strokewidth 10 -draw 'line 300,190 300,470' -stroke none \
  -fill '#2A9D8F' -draw 'roundrectangle 255,130 345,205 12,12' \
  -fill white -draw 'roundrectangle 272,148 328,182 6,6' \
  -fill '#2A9D8F' -draw 'rectangle 280,154 296,166' -draw 'rectangle 304,154 320,166' \
  -fill '#333333' -draw 'circle 284,186 284,193' -draw 'circle 316,186 316,193' \
  `# street clock showing just before eight` \
  -stroke '#555555' -strokewidth 10 -draw 'line 760,180 760,470' -stroke none \
  -fill white -stroke '#333333' -strokewidth 6 -draw 'circle 760,130 760,75' -stroke none \
  -stroke '#333333' -strokewidth 6 -draw 'stroke-linecap round line 760,130 741,97' \
  -strokewidth 8 -draw 'stroke-linecap round line 760,130 738,143' -stroke none \
  -fill '#333333' -draw 'circle 760,130 760,136' \
  `# young man: purple hoodie, phone in hand` \
  -fill '#264653' -draw 'rectangle 408,480 442,540' -draw 'rectangle 458,480 492,540' \
  -fill '#6A4C93' -draw 'roundrectangle 390,290 510,500 38,38' \
  -fill '#C68642' -draw 'circle 450,222 450,272' \
  -fill '#1B1B1B' -draw 'ellipse 450,198 52,30 180,360' \
  -fill '#222222' -draw 'circle 432,225 432,230' -draw 'circle 468,225 468,230' \
  -fill none -stroke '#4A2A10' -strokewidth 4 -draw 'arc 436,236 464,256 20,160' -stroke none \
  -stroke '#6A4C93' -strokewidth 28 -draw 'stroke-linecap round line 425,340 495,390' -stroke none \
  -fill '#222222' -draw 'roundrectangle 478,318 528,400 8,8' \
  -fill '#8ECAE6' -draw 'roundrectangle 484,328 522,388 4,4' \
  -fill '#C68642' -draw 'circle 500,395 500,412' \
  `# message bubble coming from the phone` \
  -fill white -stroke '#444444' -strokewidth 4 \
  -draw 'polygon 540,270 580,270 520,320' \
  -draw 'roundrectangle 520,195 700,285 24,24' \
  -stroke none -draw 'rectangle 535,281 554,289' \
  -fill '#B0BEC5' -draw 'roundrectangle 545,215 675,229 6,6' \
  -draw 'roundrectangle 545,239 675,253 6,6' -draw 'roundrectangle 545,263 630,270 3,3' \
  "$TMP/on-time.png"
png_out "$TMP/on-time.png" "$MEDIA/on-time.png"

# ---------------------------------------------------------------------------
# 3. break.png: two colleagues with mugs at a table, chatting in the break room.
convert -size 960x540 xc:'#E9F5DB' \
  -fill '#D4B896' -draw 'rectangle 0,460 960,540' \
  `# window with sun and cloud` \
  -fill '#BDE0FE' -stroke white -strokewidth 10 -draw 'rectangle 385,60 575,220' -stroke none \
  -fill '#FFD166' -draw 'circle 535,100 535,122' \
  -fill white -draw 'ellipse 440,165 40,18 0,360' -draw 'ellipse 470,155 30,20 0,360' \
  -stroke white -strokewidth 8 -draw 'line 480,60 480,220' -draw 'line 385,140 575,140' -stroke none \
  `# plant` \
  -fill '#52B788' -draw 'ellipse 875,330 22,55 0,360' -draw 'ellipse 850,355 18,45 0,360' -draw 'ellipse 902,355 18,45 0,360' \
  -fill '#BC6C25' -draw 'polygon 840,390 910,390 900,460 850,460' \
  `# left colleague: coral top, brown hair tied back` \
  -fill '#E76F51' -draw 'roundrectangle 150,265 310,520 42,42' \
  -fill '#5C3A21' -draw 'ellipse 175,205 22,30 0,360' \
  -fill '#F1C27D' -draw 'circle 230,195 230,250' \
  -fill '#5C3A21' -draw 'ellipse 230,170 57,32 180,360' \
  -fill '#222222' -draw 'circle 215,198 215,204' -draw 'circle 250,198 250,204' \
  -fill none -stroke '#7A3E1D' -strokewidth 4 -draw 'arc 212,210 252,236 20,160' -stroke none \
  -stroke '#E76F51' -strokewidth 30 -draw 'stroke-linecap round line 280,320 320,345' -stroke none \
  `# right colleague: blue top, short curly hair` \
  -fill '#457B9D' -draw 'roundrectangle 650,265 810,520 42,42' \
  -fill '#6B4226' -draw 'circle 730,195 730,250' \
  -fill '#1B1B1B' -draw 'circle 695,160 695,180' -draw 'circle 715,150 715,170' -draw 'circle 738,147 738,167' \
  -draw 'circle 760,152 760,172' -draw 'circle 775,168 775,185' -draw 'circle 685,178 685,192' \
  -fill '#222222' -draw 'circle 713,198 713,204' -draw 'circle 748,198 748,204' \
  -fill none -stroke '#2A1508' -strokewidth 4 -draw 'arc 710,210 750,236 20,160' -stroke none \
  -stroke '#457B9D' -strokewidth 30 -draw 'stroke-linecap round line 680,320 640,345' -stroke none \
  `# table, mugs, hands, steam` \
  -fill '#9C6644' -draw 'rectangle 240,370 720,392' -draw 'rectangle 270,392 292,530' -draw 'rectangle 668,392 690,530' \
  -fill '#F4A261' -draw 'roundrectangle 325,320 365,370 6,6' \
  -fill none -stroke '#F4A261' -strokewidth 6 -draw 'arc 355,330 380,358 -90,90' -stroke none \
  -fill '#2A9D8F' -draw 'roundrectangle 595,320 635,370 6,6' \
  -fill none -stroke '#2A9D8F' -strokewidth 6 -draw 'arc 580,330 605,358 90,270' -stroke none \
  -fill '#F1C27D' -draw 'circle 322,348 322,364' \
  -fill '#6B4226' -draw 'circle 638,348 638,364' \
  -fill none -stroke '#9AA5AE' -strokewidth 4 \
  -draw 'path "M 338,312 C 328,298 352,290 342,274"' -draw 'path "M 352,312 C 342,298 366,290 356,274"' \
  -draw 'path "M 608,312 C 598,298 622,290 612,274"' -draw 'path "M 622,312 C 612,298 636,290 626,274"' -stroke none \
  `# speech bubbles: a small sun on the left, three dots on the right` \
  -fill white -stroke '#444444' -strokewidth 4 \
  -draw 'polygon 190,100 225,100 215,135' -draw 'roundrectangle 100,20 300,110 26,26' \
  -draw 'polygon 735,100 770,100 745,135' -draw 'roundrectangle 660,20 860,110 26,26' \
  -stroke none -draw 'rectangle 203,106 218,114' -draw 'rectangle 742,106 757,114' \
  -fill '#FFB703' -draw 'circle 200,65 200,85' \
  -stroke '#FFB703' -strokewidth 5 \
  -draw 'line 200,32 200,40' -draw 'line 200,90 200,98' -draw 'line 167,65 175,65' -draw 'line 225,65 233,65' \
  -draw 'line 177,42 183,48' -draw 'line 217,82 223,88' -draw 'line 177,88 183,82' -draw 'line 217,48 223,42' -stroke none \
  -fill '#457B9D' -draw 'circle 715,65 715,76' -draw 'circle 760,65 760,76' -draw 'circle 805,65 805,76' \
  "$TMP/break.png"
png_out "$TMP/break.png" "$MEDIA/break.png"

# ---------------------------------------------------------------------------
# Narration of lesson "active-listening": the spoken text is the transcript message
# of each locale file, so transcript and recording always match.
declare -A VOICE=([en]=en-gb [fr]=fr-fr [ar]=ar [uk]=uk [fa]=fa)
for loc in en fr ar uk fa; do
  jq -er '.["listening.active.narration.transcript"]' "$COURSE/locales/$loc.json" >"$TMP/narration.$loc.txt"
  espeak-ng -v "${VOICE[$loc]}" -s 135 -b 1 -f "$TMP/narration.$loc.txt" -w "$TMP/narration.$loc.wav"
  oggenc -Q -q 1 --serial 1 -o "$MEDIA/listening.$loc.ogg" "$TMP/narration.$loc.wav"
done

ls -l "$MEDIA"
