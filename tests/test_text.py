"""Text primitives that several stages share: photo captions."""

import pytest

from rag.text import PHOTO_CREDIT, is_caption


@pytest.mark.parametrize(
    ("text", "credit"),
    [
        ("Toàn cảnh buổi tiếp. Ảnh: Hà Thu", ". Ảnh: Hà Thu"),
        ("Thủ tướng Phạm Minh Chính tiếp Thượng tướng Khamliang - Ảnh VGP/Nhật Bắc", " - Ảnh VGP/Nhật Bắc"),
        ("Quang cảnh lễ ký. Ảnh: Trọng Đức - TTXVN", ". Ảnh: Trọng Đức - TTXVN"),
        ("Hai Bộ trưởng chào cột mốc 605 (Ảnh: BQP)", " (Ảnh: BQP)"),
        ("The two ministers at the talks. Photo: VNA", ". Photo: VNA"),
    ],
)
def test_a_caption_ends_in_a_photo_credit(text: str, credit: str) -> None:
    assert is_caption(text)
    assert PHOTO_CREDIT.search(text).group(0) == credit


@pytest.mark.parametrize(
    "text",
    [
        "Ảnh hưởng của bão lũ rất lớn.",
        "Thủ tướng phát biểu. Ảnh hưởng của bão lũ rất lớn.",  # no colon, no dash: not a credit
        "Ảnh: Hà Thu cho thấy toàn cảnh buổi tiếp, hai bên trao đổi nhiều nội dung quan trọng về hợp tác.",
    ],
)
def test_not_a_caption(text: str) -> None:
    assert not is_caption(text)
