"""Write a folder of generated shape photos ("a red circle on the left", …) to try Lumen offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.photos import write_captioned_set
from tests.support.shapes import all_captions, render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--per-caption", type=int, default=2, help="images per caption")
    parser.add_argument(
        "--captions",
        action="store_true",
        help="write camera-like names and captions.csv instead (for `lumen eval`)",
    )
    args = parser.parse_args()
    if args.captions:
        pairs = write_captioned_set(args.folder, seeds=tuple(range(2000, 2000 + args.per_caption)))
        print(f"Wrote {len(pairs)} images and {args.folder / 'captions.csv'}")
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for caption in all_captions():
        for seed in range(args.per_caption):
            name = caption.text.replace(" ", "_")
            render(caption, (160, 120), seed=1000 + seed).save(
                args.folder / f"{name}_{seed}.jpg", quality=90
            )
            count += 1
    print(f"Wrote {count} images to {args.folder}")


if __name__ == "__main__":
    main()
