"""The bundled SYNTHETIC demo data set (package data): `demo.jsonl`, its images and the sample photos."""
