import pytest

from pipeline.analysis.urgency import REASONS, detect_urgency


@pytest.mark.parametrize(
    "text, reason",
    [
        ("nhà bên cạnh đang cháy lớn lắm", "fire"),
        ("nha ben canh dang boc khoi", "fire"),
        ("có vụ tai nạn ở ngã tư Lê Duẩn", "accident"),
        ("xe tải đâm xe máy, có người bị thương", "accident"),
        ("mấy thanh niên đánh nhau ngoài quán", "violence"),
        ("vừa bị cướp giật điện thoại", "violence"),
        ("nước dâng lên tới nhà rồi", "flooding"),
        ("lũ quét cuốn trôi cầu", "flooding"),
        ("đường bị ngập sâu nửa mét", "flooding"),
        ("cây xanh bị đổ chắn ngang đường", "collapse"),
        ("sạt lở đất sau nhà", "collapse"),
        ("ngửi thấy mùi gas rất nặng", "gas_leak"),
        ("dây điện đứt rơi xuống đường", "electrical"),
        ("con tôi bị điện giật", "electrical"),
        ("dây điện bị đứt rơi xuống đường", "electrical"),
        ("trụ điện ngã chắn ngang đường", "electrical"),
        ("CHÁY! cứu với", "fire"),
    ],
)
def test_emergencies_are_urgent(text, reason):
    u = detect_urgency(text)
    assert u.urgent
    assert reason in u.reasons
    assert set(u.reasons) <= set(REASONS)
    assert all(ev.lower() in text.lower() for ev in u.evidence)


@pytest.mark.parametrize(
    "text",
    [
        "xe chạy quá nhanh",
        "cửa hàng đã cháy hàng",
        "có người đổ rác ra đường",
        "họ đổ đất lấn chiếm vỉa hè",
        "trời đổ mưa từ chiều",
        "ổ gà này dễ gây tai nạn",
        "không có cháy gì đâu",
        "đường ngập rác",
        "lũ trẻ chơi ngoài đường",
        "công trình chống ngập của thành phố",
        "tập huấn phòng cháy chữa cháy",
        "em muốn hỏi về tiền điện tháng này",
        "điện thoại em bị sập nguồn",
        "bảo hiểm tai nạn cho học sinh",
        "năm ngoái khu này bị ngập",
        "giá đất sập sàn rồi",
    ],
)
def test_lookalikes_are_not_urgent(text):
    assert detect_urgency(text).urgent is False


def test_reasons_in_order_of_mention_and_each_once():
    u = detect_urgency("cháy nhà rồi, cây đổ, lại cháy nữa")
    assert u.reasons == ("fire", "collapse")
