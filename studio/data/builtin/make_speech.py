"""Generate the built-in spoken-digits set with espeak-ng (run once; the result ships).

    python -m studio.data.builtin.make_speech [--out PATH]

Each *speaker* is one English accent with one voice variant and its own base pitch and
speed; every speaker says each digit a few times with small jitter. The audio is
resampled to 8 kHz, trimmed of silence, mu-law coded to 8 bits and stored end to end in a
compressed ``.npz`` (``audio`` uint8, ``offsets``, ``labels``, ``speakers``,
``speaker_names``), so the package carries a few MB instead of a generator dependency.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
           "en-029", "en-us-nyc")
# espeak-ng's voice variants (timbre, pitch range, breathiness); each speaker uses its own.
VARIANTS = tuple("""
    Alex Alicia Andrea Andy Annie AnxiousAndy Demonic Denis Diogo Gene Gene2 Henrique Hugo Jacky Lee Marco
    Mario Michael Mike Nguyen RicishayMax RicishayMax2 RicishayMax3 Storm Tweaky UniRobot adam anika
    anikaRobot announcer antonio aunty belinda benjamin boris caleb croak david ed edward edward2 f1 f2 f3
    f4 f5 fast grandma grandpa gustave iven iven2 iven3 iven4 john kaukovalta klatt klatt2 klatt3 klatt4
    klatt5 klatt6 linda m1 m2 m3 m4 m5 m6 m7 m8 marcelo max michel miguel norbert pablo paul pedro quincy
    rob robert robosoft robosoft2 robosoft3 robosoft4 robosoft5 robosoft6 robosoft7 robosoft8 sandro
    shelby steph steph2 steph3 travis victor whisper whisperf zac""".split())
RATE = 8000
DEFAULT_OUT = Path(__file__).resolve().parent / "files" / "speech_digits.npz"


def mulaw_encode(x: np.ndarray, mu: int = 255) -> np.ndarray:
    y = np.sign(x) * np.log1p(mu * np.abs(np.clip(x, -1, 1))) / np.log1p(mu)
    return np.round((y + 1) / 2 * mu).astype(np.uint8)


def _say(voice: str, word: str, speed: int, pitch: int, tmp: Path) -> np.ndarray:
    from scipy.signal import resample_poly

    wav = tmp / "w.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), word],
                   check=True, capture_output=True)
    with wave.open(str(wav)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
    x = resample_poly(x, RATE, rate).astype(np.float32)
    loud = np.nonzero(np.abs(x) > 0.02 * np.abs(x).max())[0]
    x = x[max(loud[0] - 160, 0): loud[-1] + 160] if len(loud) else x
    return x / max(np.abs(x).max(), 1e-6) * 0.9


def generate(out: Path, speakers: int = 64, repeats: int = 2, seed: int = 0) -> dict:
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    rng = random.Random(seed)
    # Every variant once before any comes back with another accent, so timbres differ most.
    variants = list(VARIANTS)
    rng.shuffle(variants)
    chosen = [(rng.choice(ACCENTS), variants[i % len(variants)]) for i in range(speakers)]
    pieces, labels, spk, names = [], [], [], []
    with tempfile.TemporaryDirectory() as d:
        for s, (accent, variant) in enumerate(chosen):
            base_speed, base_pitch = rng.randint(120, 200), rng.randint(25, 75)
            names.append(f"{accent}+{variant} s{base_speed} p{base_pitch}")
            for digit, word in enumerate(WORDS):
                for _ in range(repeats):
                    speed = base_speed + rng.randint(-15, 15)
                    pitch = min(99, max(0, base_pitch + rng.randint(-8, 8)))
                    pieces.append(mulaw_encode(_say(f"{accent}+{variant}", word, speed, pitch, Path(d))))
                    labels.append(digit)
                    spk.append(s)
    offsets = np.cumsum([0] + [len(p) for p in pieces]).astype(np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part.npz")  # renamed into place only once complete
    np.savez_compressed(part, audio=np.concatenate(pieces), offsets=offsets, labels=np.array(labels, np.int64),
                        speakers=np.array(spk, np.int64), speaker_names=np.array(names), rate=np.array(RATE))
    os.replace(part, out)
    return {"utterances": len(pieces), "speakers": len(chosen), "seconds": offsets[-1] / RATE,
            "bytes": out.stat().st_size}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--speakers", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    print(generate(args.out, args.speakers, args.repeats))


if __name__ == "__main__":
    main()
