"""Write a folder of generated shape photos ("a red circle on the left", …) to try Lumen offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.shapes import all_captions, render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--per-caption", type=int, default=2, help="images per caption")
    args = parser.parse_args()
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
