#!/usr/bin/env bash
# Generates callq's media files: hold music (sox) and the English prompts (espeak-ng + sox).
# Every output is WAV, 8 kHz, mono, 16-bit PCM. sox runs with -R (repeatable) so reruns give the same bytes.
# Usage: scripts/gen-media.sh [MEDIA_DIR]   (default: media/ at the repository root)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/media}
voice=${CALLQ_VOICE:-en-us}
rate_wpm=150

for tool in sox espeak-ng; do
	command -v "$tool" >/dev/null || { echo "gen-media: $tool not found (scripts/deps.sh installs it)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/en"

SOX=(sox -R -V1)
FMT=(-r 8000 -c 1 -b 16 -e signed-integer)

# One bar of the progression: a soft sine pad (bass + chord) under a plucked arpeggio played twice.
# bar OUT BASS N1 N2 N3
bar() {
	local dst=$1 bass=$2 n1=$3 n2=$4 n3=$5 len=3.75
	"${SOX[@]}" -n -r 8000 -c 4 -b 16 "$work/pad4.wav" synth "$len" sine "$bass" sine "$n1" sine "$n2" sine "$n3"
	"${SOX[@]}" "$work/pad4.wav" "${FMT[@]}" "$work/pad.wav" remix 1v0.5,2v0.2,3v0.2,4v0.2 fade q 0.6 "$len" 0.6 vol 0.5
	"${SOX[@]}" -n -r 8000 -c 6 -b 16 "$work/arp6.wav" synth "$len" \
		pluck "$n1" pluck "$n2" pluck "$n3" pluck "$n1" pluck "$n3" pluck "$n2" \
		delay 0 0.31 0.62 1.87 2.18 2.49
	"${SOX[@]}" "$work/arp6.wav" "${FMT[@]}" "$work/arp.wav" remix - trim 0 "$len" fade q 0 "$len" 0.3
	"${SOX[@]}" -m "$work/pad.wav" "$work/arp.wav" "${FMT[@]}" "$dst"
}

# I - vi - IV - V in C major, twice: 8 bars of 3.75 s = 30 s.
bar "$work/b1.wav" C3 C4 E4 G4
bar "$work/b2.wav" A2 A3 C4 E4
bar "$work/b3.wav" F2 F3 A3 C4
bar "$work/b4.wav" G2 G3 B3 D4
"${SOX[@]}" "$work"/b{1,2,3,4}.wav "$work"/b{1,2,3,4}.wav "${FMT[@]}" "$work/music-raw.wav"
"${SOX[@]}" "$work/music-raw.wav" "${FMT[@]}" "$out/music.wav" lowpass 3000 fade q 1 30 2 gain -n -6

# prompt NAME "TEXT": speak, downsample to 8 kHz, trim leading/trailing silence, normalize to -3 dBFS.
prompt() {
	local name=$1 text=$2
	espeak-ng -v "$voice" -s "$rate_wpm" -w "$work/speech.wav" "$text"
	"${SOX[@]}" "$work/speech.wav" "${FMT[@]}" "$out/en/$name.wav" \
		silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse gain -n -3
}

prompt caller-number "You are caller number"
prompt in-queue "in the queue"
prompt wait-is "Your estimated wait time is"
prompt about "about"
prompt minute "minute"
prompt minutes "minutes"
prompt less-than-minute "less than a minute"

numbers=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
	sixteen seventeen eighteen nineteen)
for i in "${!numbers[@]}"; do
	prompt "$i" "${numbers[$i]}"
done
tens=([20]=twenty [30]=thirty [40]=forty [50]=fifty [60]=sixty [70]=seventy [80]=eighty [90]=ninety)
for n in "${!tens[@]}"; do
	prompt "$n" "${tens[$n]}"
done
prompt hundred "hundred"

prompt logged-in "You are logged in"
prompt logged-out "You are logged out"
prompt away "You are away"
prompt ready "You are ready"
prompt paused "Your queues are paused"
prompt resumed "Your queues are resumed"
prompt extended "Recovery time extended"
prompt denied "Not allowed"
prompt ok "OK"
prompt goodbye "Goodbye"
prompt leave-message "Please leave a message after the tone"
# Callbacks: the hold-loop offer ("press" + key + "keep"), the number read back digit by digit,
# and what the agent hears before the customer is dialed ("callback-to" + digits).
prompt callback-press "Press"
prompt callback-keep "to be called back. You keep your place in line."
prompt star "star"
prompt callback-at "We will call you back at"
prompt callback-confirm "Press pound to confirm, or enter another number, then pound."
prompt callback-enter "Please enter your phone number, then pound."
prompt callback-to "Callback to"
# The tone itself: half a second of silence, then 400 ms at 1 kHz.
"${SOX[@]}" -n "${FMT[@]}" "$work/tone.wav" synth 0.4 sine 1000 pad 0.5 0 gain -n -6
"${SOX[@]}" "$out/en/leave-message.wav" "$work/tone.wav" "${FMT[@]}" "$work/lm.wav"
mv "$work/lm.wav" "$out/en/leave-message.wav"

echo "gen-media: wrote $(find "$out" -name '*.wav' | wc -l) files to $out ($(du -sh "$out" | cut -f1))"
