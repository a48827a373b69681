# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

"""Offline World Manufacturer Identifier (WMI) decoding for VINs.

The WMI is the first three characters of a VIN (ISO 3779/3780). A manufacturer that builds fewer than
1,000 vehicles a year gets a third character of 9, and its WMI is then VIN positions 1-3 followed by
positions 12-14 (six characters, e.g. "ZA9A12"). decode_wmi() looks the six-character key up first
when the third character is 9 and the table has it, and falls back to the three-character key.

The table is data/wmi.csv (columns wmi,manufacturer,country; lines starting with # are comments), a
small public-domain extract of the NHTSA vPIC WMI records. It is read once, on first use.

region_of() gives the region from the first character alone, per the ISO 3780 ranges: A-H Africa,
J-R Asia, S-Z Europe, 1-5 North America, 6-7 Oceania, 8-9 South America. It knows nothing of later
assignments (vPIC records some 7 codes, such as 7SA, as United States ones): where a WMI is in the
table, its country is the better guide.
"""

import csv
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

WMI_CSV = Path(__file__).with_name("data") / "wmi.csv"
WMI_COLUMNS = ("wmi", "manufacturer", "country")
SMALL_MANUFACTURER_MARK = "9"  # third character of the WMI of a maker of < 1,000 vehicles a year
REGIONS = (
	("ABCDEFGH", "Africa"),
	("JKLMNPR", "Asia"),
	("STUVWXYZ", "Europe"),
	("12345", "North America"),
	("67", "Oceania"),
	("89", "South America"),
)
REGION_BY_FIRST_CHARACTER = {ch: region for chars, region in REGIONS for ch in chars}


def _normalize(vin: str | None) -> str:
	"""Upper-case the VIN and drop whitespace and dashes, as people type them."""
	return "".join((vin or "").split()).replace("-", "").upper()


def load_wmi_table(path: str | Path = WMI_CSV) -> dict[str, tuple[str, str]]:
	"""Read a WMI CSV into {wmi: (manufacturer, country)}; skip blank and # lines; reject bad rows."""
	with open(path, encoding="utf-8", newline="") as f:
		lines = [line for line in f if line.strip() and not line.lstrip().startswith("#")]
	reader = csv.DictReader(lines)
	if tuple(reader.fieldnames or ()) != WMI_COLUMNS:
		raise ValueError(f"{path}: expected the header {','.join(WMI_COLUMNS)}, got {reader.fieldnames}")
	table: dict[str, tuple[str, str]] = {}
	for row in reader:
		wmi = (row["wmi"] or "").strip().upper()
		manufacturer = (row["manufacturer"] or "").strip()
		country = (row["country"] or "").strip()
		if len(wmi) not in (3, 6) or not wmi.isalnum() or not manufacturer or not country:
			raise ValueError(f"{path}: bad WMI row {row}")
		if len(wmi) == 6 and wmi[2] != SMALL_MANUFACTURER_MARK:
			raise ValueError(f"{path}: six-character WMI {wmi} must have {SMALL_MANUFACTURER_MARK} third")
		if wmi in table:
			raise ValueError(f"{path}: WMI {wmi} is listed twice")
		table[wmi] = (manufacturer, country)
	return table


@lru_cache(maxsize=1)
def wmi_table() -> Mapping[str, tuple[str, str]]:
	"""The bundled table, read once and shared (read-only)."""
	return MappingProxyType(load_wmi_table())


def wmi_keys(vin: str | None) -> list[str]:
	"""The keys to try for a VIN, most specific first: [6-character key,] 3-character key."""
	vin = _normalize(vin)
	if len(vin) < 3:
		return []
	keys = [vin[:3]]
	if vin[2] == SMALL_MANUFACTURER_MARK and len(vin) >= 14:
		keys.insert(0, vin[:3] + vin[11:14])
	return keys


def decode_wmi(vin: str | None, table: Mapping[str, tuple[str, str]] | None = None) -> dict | None:
	"""Return {"wmi", "manufacturer", "country"} for the VIN's WMI, or None when it is not known.

	A partial VIN works as long as it has the WMI: the first 3 characters, or 14 for the six-character
	key of a small manufacturer. `table` defaults to the bundled data/wmi.csv.
	"""
	table = wmi_table() if table is None else table
	for key in wmi_keys(vin):
		if key in table:
			manufacturer, country = table[key]
			return {"wmi": key, "manufacturer": manufacturer, "country": country}
	return None


def region_of(vin: str | None) -> str | None:
	"""The ISO 3780 region of the VIN's first character, or None (empty, or 0, I, O, Q, or punctuation)."""
	vin = _normalize(vin)
	return REGION_BY_FIRST_CHARACTER.get(vin[0]) if vin else None
