"""Interface strings: Vietnamese first (the users are Vietnamese government staff), English as a switch."""

from __future__ import annotations

LANGS = ("vi", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "app_title": {"vi": "Phân tích tổng đài 1022", "en": "1022 hotline analytics"},
    "login": {"vi": "Đăng nhập", "en": "Log in"},
    "logout": {"vi": "Đăng xuất", "en": "Log out"},
    "user_name": {"vi": "Tên đăng nhập", "en": "User name"},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "bad_login": {"vi": "Sai tên đăng nhập hoặc mật khẩu.", "en": "Wrong user name or password."},
    "locked": {"vi": "Đăng nhập sai quá nhiều lần: tài khoản tạm khóa, vui lòng thử lại sau {minutes} phút.",
               "en": "Too many failed log-ins: the account is locked, try again in {minutes} minutes."},
    "calls": {"vi": "Cuộc gọi", "en": "Calls"},
    "dashboard": {"vi": "Bảng điều khiển", "en": "Dashboard"},
    "search": {"vi": "Tìm kiếm", "en": "Search"},
    "search_hint": {"vi": "có hoặc không dấu, ví dụ: đèn đường / den duong", "en": "with or without diacritics"},
    "from": {"vi": "Từ ngày", "en": "From"},
    "to": {"vi": "Đến ngày", "en": "To"},
    "topic": {"vi": "Chủ đề", "en": "Topic"},
    "topics": {"vi": "Chủ đề", "en": "Topics"},
    "place": {"vi": "Địa bàn", "en": "Place"},
    "places": {"vi": "Địa điểm", "en": "Places"},
    "operator": {"vi": "Điện thoại viên", "en": "Operator"},
    "all": {"vi": "Tất cả", "en": "All"},
    "needs_review": {"vi": "Cần xem lại", "en": "Needs review"},
    "urgent": {"vi": "Khẩn cấp", "en": "Urgent"},
    "reviewed": {"vi": "Đã duyệt", "en": "Reviewed"},
    "filter": {"vi": "Lọc", "en": "Filter"},
    "export_csv": {"vi": "Xuất CSV", "en": "Export CSV"},
    "export_xlsx": {"vi": "Xuất Excel", "en": "Export Excel"},
    "time": {"vi": "Thời gian", "en": "Time"},
    "duration": {"vi": "Thời lượng", "en": "Duration"},
    "confidence": {"vi": "Độ tin cậy", "en": "Confidence"},
    "transcript": {"vi": "Nội dung", "en": "Transcript"},
    "n_results": {"vi": "{n} cuộc gọi", "en": "{n} calls"},
    "no_results": {"vi": "Không có cuộc gọi nào.", "en": "No calls."},
    "previous": {"vi": "← Trước", "en": "← Previous"},
    "next": {"vi": "Sau →", "en": "Next →"},
    "role_operator": {"vi": "Tổng đài viên", "en": "Operator"},
    "role_citizen": {"vi": "Người dân", "en": "Citizen"},
    "role_unknown": {"vi": "Chưa rõ", "en": "Unknown"},
    "position": {"vi": "Vị trí", "en": "Position"},
    "click_to_play": {"vi": "Bấm vào một câu để nghe từ đó.", "en": "Click a sentence to play from there."},
    "routing": {"vi": "Chuyển xử lý", "en": "Routing"},
    "metrics": {"vi": "Chỉ số", "en": "Metrics"},
    "add_topic": {"vi": "Thêm chủ đề", "en": "Add topic"},
    "remove": {"vi": "Bỏ", "en": "Remove"},
    "add": {"vi": "Thêm", "en": "Add"},
    "mark_reviewed": {"vi": "Đánh dấu đã duyệt", "en": "Mark reviewed"},
    "reopen": {"vi": "Mở lại để xem xét", "en": "Reopen for review"},
    "history": {"vi": "Lịch sử chỉnh sửa", "en": "Correction history"},
    "model": {"vi": "mô hình", "en": "model"},
    "qa_corrected": {"vi": "QA đã sửa", "en": "corrected by QA"},
    "raw_hidden": {"vi": "Văn bản đã che thông tin cá nhân.", "en": "Personal data redacted."},
    "raw_shown": {"vi": "Văn bản gốc (chưa che) — chỉ vai trò được phép xem.", "en": "Unredacted text — allowed roles only."},
    "period": {"vi": "Kỳ báo cáo", "en": "Period"},
    "review_queue": {"vi": "Hàng chờ QA", "en": "Review queue"},
    "waiting": {"vi": "Đang chờ", "en": "Waiting"},
    "corrections": {"vi": "Lượt sửa", "en": "Corrections"},
    "hours": {"vi": "Giờ ghi âm", "en": "Audio hours"},
    "operators": {"vi": "Điện thoại viên", "en": "Operators"},
    "forbidden": {"vi": "Vai trò của bạn không được phép làm việc này.", "en": "Your role is not allowed to do this."},
    "not_found": {"vi": "Không tìm thấy.", "en": "Not found."},
    "busy": {"vi": "Cơ sở dữ liệu đang bận: pipeline đang nạp dữ liệu; vui lòng thử lại sau một phút.",
             "en": "database busy: a pipeline run is loading; try again in a minute"},
    "back": {"vi": "Quay lại", "en": "Back"},
}


def translator(lang: str):
    """``t(key, **values)`` for templates; unknown keys show as themselves so a gap is visible."""
    lang = lang if lang in LANGS else "vi"

    def t(key: str, **values) -> str:
        text = MESSAGES.get(key, {}).get(lang, key)
        return text.format(**values) if values else text

    return t
