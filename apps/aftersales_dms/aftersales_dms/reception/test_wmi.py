# Copyright (c) 2026, Aftersales DMS contributors
# For license information, please see license.txt

import tempfile
from pathlib import Path

from frappe.tests.utils import FrappeTestCase

from aftersales_dms.reception.wmi import (
	REGIONS,
	decode_wmi,
	load_wmi_table,
	region_of,
	wmi_keys,
	wmi_table,
)


class TestWMITable(FrappeTestCase):
	def test_bundled_table_loads(self):
		table = wmi_table()
		self.assertTrue(60 <= len(table) <= 150, len(table))
		self.assertTrue(all(len(key) in (3, 6) for key in table))
		self.assertTrue(all(key[2] == "9" for key in table if len(key) == 6))
		self.assertIs(wmi_table(), table)  # read once, then cached

	def test_comment_lines_are_skipped(self):
		self.assertFalse(any(key.startswith("#") for key in wmi_table()))
		self.assertNotIn("WMI", wmi_table())  # the header row is not data

	def test_bad_files_are_rejected(self):
		cases = {
			"wrong header": "code,name,country\n1HG,Honda,United States\n",
			"duplicate": "wmi,manufacturer,country\n1HG,Honda,United States\n1HG,Honda,United States\n",
			"bad length": "wmi,manufacturer,country\n1H,Honda,United States\n",
			"six without 9": "wmi,manufacturer,country\nZAXA12,Lamborghini,Italy\n",
			"missing country": "wmi,manufacturer,country\n1HG,Honda,\n",
		}
		with tempfile.TemporaryDirectory() as tmp:
			for label, text in cases.items():
				path = Path(tmp) / f"{label}.csv"
				path.write_text("# a comment\n" + text, encoding="utf-8")
				with self.subTest(label), self.assertRaises(ValueError):
					load_wmi_table(path)


class TestDecodeWMI(FrappeTestCase):
	def test_known_wmis(self):
		cases = {
			"1HGCM82633A004352": ("1HG", "Honda", "United States"),  # the 49 CFR 565 textbook VIN
			"1FAHP3F20CL148503": ("1FA", "Ford", "United States"),
			"1G1ZT53826F109149": ("1G1", "General Motors", "United States"),
			"2HGFG12648H542335": ("2HG", "Honda", "Canada"),
			"3VWFE21C04M000001": ("3VW", "Volkswagen", "Mexico"),
			"4T1BF1FK5CU000001": ("4T1", "Toyota", "United States"),
			"5YJ3E1EA7KF000001": ("5YJ", "Tesla", "United States"),
			"JHMCM56557C404453": ("JHM", "Honda", "Japan"),
			"JT2AE09W0P0000001": ("JT2", "Toyota", "Japan"),
			"WVWZZZ1JZXW000001": ("WVW", "Volkswagen", "Germany"),
			"WBA3A5C51CF256987": ("WBA", "BMW", "Germany"),
			"WDDGF4HB1CA000001": ("WDD", "Mercedes-Benz", "Germany"),
			"KMHCT41DAEU000001": ("KMH", "Hyundai", "South Korea"),
			"MAJ6S3KL0KC000001": ("MAJ", "Ford", "India"),
			"MCU3F5KE0NL000001": ("MCU", "Mahindra & Mahindra", "India"),
			"SALGS2EF0GA000001": ("SAL", "Jaguar Land Rover", "United Kingdom"),
			"9BWZZZ377VT004251": ("9BW", "Volkswagen", "Brazil"),
		}
		for vin, (wmi, manufacturer, country) in cases.items():
			with self.subTest(vin):
				self.assertEqual(
					decode_wmi(vin), {"wmi": wmi, "manufacturer": manufacturer, "country": country}
				)

	def test_input_is_normalised(self):
		expected = decode_wmi("WVWZZZ1JZXW000001")
		self.assertEqual(decode_wmi(" wvw-zzz1jz xw000001 "), expected)
		self.assertEqual(decode_wmi("wvw"), expected)  # a bare WMI is enough

	def test_small_manufacturer_six_character_key(self):
		# third character 9: the WMI is positions 1-3 + 12-14 (here "ZA9" + "A12", Lamborghini in vPIC)
		vin = "ZA9DE07A0SLA12345"
		self.assertEqual(wmi_keys(vin), ["ZA9A12", "ZA9"])
		self.assertEqual(
			decode_wmi(vin), {"wmi": "ZA9A12", "manufacturer": "Lamborghini", "country": "Italy"}
		)
		self.assertEqual(decode_wmi("SA9AB1234GKA11001")["manufacturer"], "Morgan")  # 12-14 "A11"
		self.assertEqual(decode_wmi("YT9NN1U14KA007100")["wmi"], "YT9007")

	def test_small_manufacturer_falls_back_to_three_characters(self):
		table = {"AB9": ("Three-character maker", "South Africa"), "AB9123": ("Six", "South Africa")}
		self.assertEqual(decode_wmi("AB9ZZZ00000123456", table)["wmi"], "AB9123")
		# positions 12-14 "777" are not listed: fall back to the 3-character key
		self.assertEqual(
			decode_wmi("AB9ZZZ00000777456", table),
			{"wmi": "AB9", "manufacturer": "Three-character maker", "country": "South Africa"},
		)
		self.assertEqual(decode_wmi("AB9ZZZ", table)["wmi"], "AB9")  # too short for positions 12-14
		# the bundled table: Lamborghini's "ZA9A12" is listed, a bare "ZA9" is not
		self.assertIsNone(decode_wmi("ZA9DE07A0SLB99345"))

	def test_nine_elsewhere_is_not_a_small_manufacturer(self):
		self.assertEqual(wmi_keys("19UUA56653A000001"), ["19U"])
		self.assertEqual(decode_wmi("19UUA56653A000001")["manufacturer"], "Honda")

	def test_unknown_wmi(self):
		for vin in ("ZZZ00000000000000", "00000000000000000", "1H", "", None):
			with self.subTest(vin=vin):
				self.assertIsNone(decode_wmi(vin))


class TestRegionOf(FrappeTestCase):
	def test_each_region(self):
		cases = {
			"ADM": "Africa",
			"JHMCM56557C404453": "Asia",
			"MAJ6S3KL0KC000001": "Asia",
			"RLL": "Asia",
			"SALGS2EF0GA000001": "Europe",
			"WVWZZZ1JZXW000001": "Europe",
			"ZFF": "Europe",
			"1HGCM82633A004352": "North America",
			"5YJ3E1EA7KF000001": "North America",
			"6G1": "Oceania",
			"6MP": "Oceania",
			"8AP": "South America",
			"9BWZZZ377VT004251": "South America",
		}
		for vin, region in cases.items():
			with self.subTest(vin):
				self.assertEqual(region_of(vin), region)

	def test_every_vin_character_has_one_region(self):
		covered = "".join(chars for chars, _region in REGIONS)
		self.assertEqual(sorted(covered), sorted("ABCDEFGHJKLMNPRSTUVWXYZ123456789"))

	def test_no_region(self):
		for vin in ("", None, "0AB", "IAB", "OAB", "QAB", "-"):
			with self.subTest(vin=vin):
				self.assertIsNone(region_of(vin))

	def test_region_is_by_first_character_only(self):
		# vPIC records 7SA (Tesla) as a United States code; ISO 3780's range still says Oceania
		self.assertEqual(decode_wmi("7SAYGDEE0PF000001")["country"], "United States")
		self.assertEqual(region_of("7SAYGDEE0PF000001"), "Oceania")
		self.assertEqual(region_of(" wvw "), "Europe")
