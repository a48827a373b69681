"""Vehicle identification numbers and registration plates.

VIN structure per ISO 3779 (WMI = positions 1-3, VDS = 4-9, VIS = 10-17), check digit per
49 CFR 565.15 (position 9): letters transliterated to numbers, multiplied by position weights,
summed, modulo 11; a remainder of 10 is written 'X'. The check digit is mandatory for vehicles
made for North America (WMI starting with 1-5) and only advisory elsewhere.
"""

import re

VIN_LENGTH = 17
VIN_ALPHABET = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")  # I, O and Q never appear
TRANSLITERATION = {
	**{str(d): d for d in range(10)},
	**dict(zip("ABCDEFGH", range(1, 9), strict=True)),
	**dict(zip("JKLMN", range(1, 6), strict=True)),
	"P": 7,
	"R": 9,
	**dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
NORTH_AMERICAN_WMI_PREFIXES = tuple("12345")


class InvalidVIN(ValueError):
	pass


def clean_vin(vin: str | None) -> str:
	return re.sub(r"[\s-]+", "", (vin or "")).upper()


def check_digit(vin: str) -> str:
	total = sum(TRANSLITERATION[ch] * w for ch, w in zip(vin, WEIGHTS, strict=True))
	remainder = total % 11
	return "X" if remainder == 10 else str(remainder)


def is_north_american(vin: str) -> bool:
	return vin.startswith(NORTH_AMERICAN_WMI_PREFIXES)


def validate_vin(vin: str | None) -> tuple[str, list[str]]:
	"""Return (normalised VIN, warnings); raise InvalidVIN with a reason a person can act on."""
	vin = clean_vin(vin)
	if len(vin) != VIN_LENGTH:
		raise InvalidVIN(f"A VIN has {VIN_LENGTH} characters; '{vin}' has {len(vin)}.")
	bad = sorted({ch for ch in vin if ch in "IOQ"})
	if bad:
		raise InvalidVIN(
			f"VIN {vin} contains {', '.join(bad)}: the letters I, O and Q never appear in a VIN."
		)
	if not VIN_ALPHABET.match(vin):
		raise InvalidVIN(f"VIN {vin} may contain only the letters A-Z (without I, O, Q) and digits.")
	warnings = []
	expected = check_digit(vin)
	if vin[8] != expected:
		message = f"VIN {vin}: the check digit (position 9) is {vin[8]} but should be {expected}."
		if is_north_american(vin):
			raise InvalidVIN(message + " It is mandatory for vehicles made for North America.")
		warnings.append(message + " Please verify the VIN against the vehicle.")
	return vin, warnings


def normalize_plate(plate: str | None) -> str:
	"""Registration plates are compared and stored without case, spaces, dots or dashes."""
	return re.sub(r"[\s.\-_/]+", "", (plate or "")).upper()
