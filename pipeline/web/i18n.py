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
    # Conversation metrics (pipeline.metrics) and their scopes.
    "metric_talk_time_s": {"vi": "Thời gian nói (s)", "en": "Talk time (s)"},
    "metric_non_talk_time_s": {"vi": "Thời gian không nói (s)", "en": "Non-talk time (s)"},
    "metric_non_talk_share": {"vi": "Tỷ lệ không nói", "en": "Non-talk share"},
    "metric_longest_silence_s": {"vi": "Khoảng lặng dài nhất (s)", "en": "Longest silence (s)"},
    "metric_overlap_s": {"vi": "Nói chồng lên nhau (s)", "en": "Overlap (s)"},
    "metric_interruptions": {"vi": "Số lần ngắt lời", "en": "Interruptions"},
    "metric_talk_speed_spm": {"vi": "Tốc độ nói (âm tiết/phút)", "en": "Talk speed (syllables/min)"},
    "metric_loudness_mean_dbfs": {"vi": "Âm lượng trung bình (dBFS)", "en": "Mean loudness (dBFS)"},
    "metric_loudness_peak_dbfs": {"vi": "Âm lượng đỉnh (dBFS)", "en": "Peak loudness (dBFS)"},
    "metric_pitch_median_hz": {"vi": "Cao độ trung vị (Hz)", "en": "Median pitch (Hz)"},
    "metric_pitch_range_hz": {"vi": "Khoảng cao độ (Hz)", "en": "Pitch range (Hz)"},
    "metric_clipping_ratio": {"vi": "Tỷ lệ tiếng bị méo (clipping)", "en": "Clipping ratio"},
    "metric_snr_db": {"vi": "Tỷ số tín hiệu/nhiễu (dB)", "en": "Signal-to-noise ratio (dB)"},
    "scope_call": {"vi": "Cả cuộc gọi", "en": "Call"},
    "scope_operator": {"vi": "Điện thoại viên", "en": "Operator"},
    "scope_citizen": {"vi": "Người dân", "en": "Citizen"},
    # Why a call is in the review queue (pipeline.analyse) or urgent (pipeline.urgency).
    "reason_low_confidence": {"vi": "Độ tin cậy nhận dạng thấp", "en": "Low recognition confidence"},
    "reason_no_confident_topic": {"vi": "Chưa rõ chủ đề", "en": "No confident topic"},
    "reason_loop_removed": {"vi": "Đã bỏ đoạn lặp của máy nhận dạng", "en": "Recognition loop removed"},
    "reason_hallucination_removed": {"vi": "Đã bỏ câu máy tự sinh", "en": "Hallucinated text removed"},
    "reason_not_vietnamese": {"vi": "Không phải tiếng Việt", "en": "Not Vietnamese"},
    "reason_no_speech": {"vi": "Không có lời nói", "en": "No speech"},
    "reason_speech_not_transcribed": {"vi": "Có lời nói chưa được chép", "en": "Speech left untranscribed"},
    "reason_roles_uncertain": {"vi": "Chưa chắc ai là điện thoại viên", "en": "Roles uncertain"},
    "reason_truncated": {"vi": "File ghi âm bị cắt cụt", "en": "Recording truncated"},
    "reason_urgent": {"vi": "Khẩn cấp", "en": "Urgent"},
    "reason_fire": {"vi": "Cháy", "en": "Fire"},
    "reason_accident": {"vi": "Tai nạn", "en": "Accident"},
    "reason_violence": {"vi": "Bạo lực", "en": "Violence"},
    "reason_flooding": {"vi": "Ngập lụt", "en": "Flooding"},
    "reason_collapse": {"vi": "Sập, sạt lở", "en": "Collapse"},
    "reason_gas_leak": {"vi": "Rò rỉ khí gas", "en": "Gas leak"},
    "reason_electrical": {"vi": "Sự cố điện nguy hiểm", "en": "Electrical hazard"},
    "reason_distress": {"vi": "Người cần cứu giúp", "en": "Person in distress"},
    # --- issue 15: managers' view (dashboard, exports, period report) ---
    "download_transcript": {"vi": "Tải bản ghi", "en": "Download transcript"},
}


def translator(lang: str):
    """``t(key, default=None, **values)`` for templates; unknown keys show as themselves
    (or ``default``) so a gap is visible."""
    lang = lang if lang in LANGS else "vi"

    def t(key: str, default: str | None = None, **values) -> str:
        """The string for ``key``; ``default`` (else the key itself) when there is none."""
        text = MESSAGES.get(key, {}).get(lang, key if default is None else default)
        return text.format(**values) if values else text

    return t
