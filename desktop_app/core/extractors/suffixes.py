"""The file name extensions of the files Lumen indexes, without importing any reader.

``images.IMAGE_EXTENSIONS`` is what this process's Pillow opens (it asks Pillow and its
plugins); ``PHOTO_SUFFIXES`` is every extension a photo may have in any build, for code that
only sorts files already catalogued (a search pairing a RAW with its JPEG) and need not import
Pillow for it.
"""

from __future__ import annotations

PHOTO_BASE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".mpo", ".png", ".webp", ".gif", ".bmp", ".dib", ".tif", ".tiff"}
)
# Formats a Pillow reads when built with them, each with the extensions it goes by.
OPTIONAL_FORMAT_SUFFIXES = {
    "JPEG2000": frozenset({".jp2", ".j2k", ".j2c", ".jpf", ".jpx"}),
    "PSD": frozenset({".psd"}),
    "TGA": frozenset({".tga"}),
    "DDS": frozenset({".dds"}),
    "PCX": frozenset({".pcx"}),
    "JXL": frozenset({".jxl"}),  # only with a JPEG XL plugin registered
}
HEIF_SUFFIXES = frozenset({".heic", ".heif", ".hif"})  # .hif: Canon and Fujifilm HEIF
AVIF_SUFFIXES = frozenset({".avif"})
PHOTO_SUFFIXES = PHOTO_BASE_SUFFIXES.union(
    HEIF_SUFFIXES, AVIF_SUFFIXES, *OPTIONAL_FORMAT_SUFFIXES.values()
)

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".3gp", ".3g2", ".mts",
        ".m2ts", ".mpg", ".mpeg", ".wmv", ".ogv", ".flv",
    }
)  # fmt: skip

PDF_EXTENSIONS = frozenset({".pdf"})
PLAIN_EXTENSIONS = frozenset({".txt", ".text", ".md", ".markdown"})
HTML_EXTENSIONS = frozenset({".html", ".htm", ".xhtml"})
RTF_EXTENSIONS = frozenset({".rtf"})
TEXT_EXTENSIONS: frozenset[str] = PLAIN_EXTENSIONS | HTML_EXTENSIONS | RTF_EXTENSIONS
OOXML_EXTENSIONS = frozenset({".docx", ".pptx", ".xlsx"})
ODF_EXTENSIONS = frozenset({".odt", ".odp", ".ods"})
OFFICE_EXTENSIONS: frozenset[str] = OOXML_EXTENSIONS | ODF_EXTENSIONS
DOCUMENT_EXTENSIONS: frozenset[str] = PDF_EXTENSIONS | TEXT_EXTENSIONS | OFFICE_EXTENSIONS
