from pipeline.logsafe import mask_numbers


def test_phone_numbers_are_masked_but_dates_stay():
    assert mask_numbers("in-0905123456.wav") == "in-***456.wav"
    assert mask_numbers("caller +84 905 123 456") == "caller ***456"
    assert "0905" not in mask_numbers("số 0905.123.456 gọi lúc 10:30")
    assert mask_numbers("rec_20261103_082512_ext101.wav") == "rec_20261103_082512_ext101.wav"


def test_decode_errors_name_the_file_without_the_callers_number(tmp_path):
    import pytest

    from pipeline.errors import AudioDecodeError
    from pipeline.stages.audio import decode_audio

    bad = tmp_path / "in-0905123456-ext101.mp3"
    bad.write_text("not audio")
    with pytest.raises(AudioDecodeError) as err:
        decode_audio(bad)
    assert "0905123456" not in str(err.value) and "in-***456" in str(err.value)
    assert err.value.path == str(bad)
    assert str(err.value).count(str(tmp_path)) == 1, "the path is named once"
