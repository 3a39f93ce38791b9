"""Reading CSV files: an experiment's dataset (registry entry plus YAML overrides) and files
given on the command line, with one clear error for a missing file, column or label."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import SENTIMENTS, DataConfig, ExperimentConfig, SourceConfig
from ..errors import InputError
from .registry import REGISTRY, Dataset, locate


def resolve_sources(data: DataConfig, directory: Path) -> list[tuple[Dataset, Path, int | None]]:
    """(dataset description with the YAML's overrides, file path, max_rows) per source."""
    return [(*resolve_source(source, directory), source.max_rows)
            for source in data.all_sources()]


def resolve_dataset(experiment: ExperimentConfig, directory: Path) -> tuple[Dataset, Path]:
    """The first source's description and path (single-file experiments)."""
    return resolve_source(experiment.data.all_sources()[0], directory)


def resolve_source(d: SourceConfig, directory: Path) -> tuple[Dataset, Path]:
    """The dataset description with the source's overrides, and its file path."""
    if d.dataset == "csv":
        base = Dataset(name="csv", filename=d.path, sha256="", text_column=d.text_column,
                       label_column=d.label_column, label_mapping=d.label_mapping or {},
                       group_column=d.group_column)
        path = Path(d.path) if Path(d.path).is_absolute() else directory / d.path
        if not path.exists():
            raise InputError(path, None, f"missing: not found in DATA_DIR={directory}")
        return base, path
    base = REGISTRY[d.dataset]
    overrides = {k: v for k, v in {
        "text_column": d.text_column, "label_column": d.label_column,
        "group_column": d.group_column, "label_mapping": d.label_mapping}.items() if v}
    merged = Dataset(**{**base.__dict__, **overrides})
    return merged, locate(merged, directory)


# Encodings read: UTF-8 (with or without a BOM) and UTF-16 with its BOM. Anything else, latin-1
# included, is refused with a clear error rather than guessed: latin-1 decodes any bytes, so a
# guess would silently turn a cp1252 or UTF-16 file without BOM into wrong text.
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def detect_encoding(path: Path) -> str:
    """utf-8-sig or utf-16 by the file's BOM, else utf-8 (after a check for NUL bytes)."""
    with open(path, "rb") as handle:
        head = handle.read(65536)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" in head:
        raise InputError(path, None, "contains NUL bytes: binary, or UTF-16 without a BOM? "
                                     "save it as UTF-8 CSV")
    return "utf-8"


def read_csv(path: Path, dataset: Dataset, max_rows: int | None = None) -> pd.DataFrame:
    """A comma-separated file as strings (no NaN: an empty field is ""), its needed columns
    checked. Only InputError escapes."""
    if path.is_dir():
        raise InputError(path, None, "is a folder, not a CSV file")
    try:
        encoding = detect_encoding(path)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=max_rows,
                            encoding=encoding, encoding_errors="strict")
    except UnicodeDecodeError:
        line, byte = _first_undecodable(path, encoding)
        raise InputError(path, f"line {line}", f"not {encoding.upper()} text (byte 0x{byte:02x}; "
                                               "latin-1/cp1252? convert it: iconv -f cp1252 "
                                               "-t utf-8)") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, None, "empty file (no header, no rows)") from None
    except (pd.errors.ParserError, ValueError, OverflowError, MemoryError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
        raise InputError(path, None, f"not a readable CSV ({first})") from None
    except OSError as err:
        raise InputError(path, None, f"cannot read it ({err.strerror or err})") from None
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took the extra fields as index
        raise InputError(path, None, "the rows have more fields than the header has columns "
                                     "(an unquoted comma in a text?)")
    frame.columns = [str(c) for c in frame.columns]
    for role in ("text_column", "label_column", "group_column"):
        column = getattr(dataset, role)
        if column and column not in frame.columns:
            raise InputError(path, column, f"no such column ({role}; the file has: "
                                           f"{', '.join(frame.columns)[:300]}"
                                           f"{_delimiter_hint(frame.columns)})")
    if frame.empty:
        raise InputError(path, None, "no data rows (only a header)")
    return frame


def _delimiter_hint(columns) -> str:
    if len(columns) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in columns[0]:
                return f"; the header is separated by {name}: save it comma-separated"
    return ""


def _first_undecodable(path: Path, encoding: str) -> tuple[int, int]:
    """Line number and value of the first byte that does not decode."""
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as err:
        return data[:err.start].count(b"\n") + 1, data[err.start]
    return 1, 0


def read_user_csv(path: Path, text_col: str, label_col: str | None, group_col: str | None,
                  label_map: tuple[str, ...], class_names: list[str]) -> pd.DataFrame:
    """A CSV given on the command line, as columns text (+ group) (+ label ids).

    `label_map` items are RAW=SENTIMENT (comma-separated or repeated); labels already named
    negative/neutral/positive need none. Rows whose sentiment is not one of the model's classes
    (neutral for a binary model, drop) are left out.
    """
    mapping = {}
    for item in ",".join(label_map).split(","):
        if item.strip():
            raw, sep, sentiment = item.partition("=")
            if not sep or sentiment.strip() not in (*SENTIMENTS, "drop"):
                raise InputError("--label-map", item,
                                 "expected RAW=negative|neutral|positive|drop")
            mapping[raw.strip()] = sentiment.strip()
    spec = Dataset("cli", path.name, "", text_col, label_col or "", {}, group_col)
    frame = read_csv(path, spec)
    result = pd.DataFrame({"text": frame[text_col].astype(str)})
    if group_col:
        result["group"] = frame[group_col].astype(str)
    if label_col:
        sentiments = frame[label_col].astype(str).map(lambda v: mapping.get(v, v.strip().lower()))
        unknown = sorted(set(sentiments) - {*SENTIMENTS, "drop"})
        if unknown:
            raise InputError(path, label_col, f"labels {unknown[:5]} need --label-map "
                                              "RAW=negative|neutral|positive|drop")
        result["label"] = [class_names.index(s) if s in class_names else -1 for s in sentiments]
        result = result[result["label"] >= 0].reset_index(drop=True)
        if result["label"].nunique() < 2:
            raise InputError(path, label_col, "fewer than two of the model's classes remain")
    return result
