"""Image extractor (Pillow): reduced-size decode, EXIF orientation and metadata."""
