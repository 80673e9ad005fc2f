"""The QR encoder for case references gives the modules a general encoder gives, and scans."""

import pytest
import segno

from recall.notices import qr


@pytest.mark.parametrize(
    "payload",
    ["R-2026-014-000211", "R-BENCH-000001", "A", "R-2026-014-000211-LONGER-REF", "R-" + "9" * 50],
)
def test_alphanumeric_references_match_segno_module_for_module(payload):
    expected = segno.make_qr(payload, error="m", boost_error=False, mask=0).matrix
    assert qr.matrix(payload) == [bytearray(row) for row in expected]


@pytest.mark.parametrize("payload", ["r-2026-abc_x-000001", "x" * 40, "R-" + "Z" * 80, "Rappel-é"])
def test_other_payloads_scan_back_to_themselves(payload):
    zxing = pytest.importorskip("zxingcpp")
    image_module = pytest.importorskip("PIL.Image")
    rows = qr.matrix(payload)
    scale, quiet = 6, 4
    side = (len(rows) + 2 * quiet) * scale
    image = image_module.new("L", (side, side), 255)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                box = ((x + quiet) * scale, (y + quiet) * scale)
                image.paste(0, (*box, box[0] + scale, box[1] + scale))
    assert [code.text for code in zxing.read_barcodes(image)] == [payload]
