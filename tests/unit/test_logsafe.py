from pipeline.logsafe import mask_numbers


def test_phone_numbers_are_masked_but_dates_stay():
    assert mask_numbers("in-0905123456.wav") == "in-***456.wav"
    assert mask_numbers("caller +84 905 123 456") == "caller ***456"
    assert "0905" not in mask_numbers("số 0905.123.456 gọi lúc 10:30")
    assert mask_numbers("rec_20261103_082512_ext101.wav") == "rec_20261103_082512_ext101.wav"
