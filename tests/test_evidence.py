"""Sentence evidence: people and places, type fit, ordinals, the sentence table."""

from __future__ import annotations

import pytest

from rag.bot import ChatBot
from rag.entities import has_place, mentions, people, title_aliases
from rag.evidence import (
    SentenceTable,
    anniversaries,
    asked_terms,
    counted_unknown,
    editions,
    ordinals,
    type_fit,
    unsaid_terms,
)
from rag.query import Concept, Query, analyze
from rag.text import fold, is_caption, padded


def test_people_after_titles() -> None:
    assert people("Thủ tướng Chính phủ Phạm Minh Chính đã tiếp Thượng tướng Khamliang Outhakaysone, Bộ trưởng") == (
        "Phạm Minh Chính", "Khamliang Outhakaysone")
    assert people("Bộ trưởng Bộ Quốc phòng Phan Văn Giang.") == ("Phan Văn Giang",)
    assert people("hai Bộ trưởng hai nước đã ký Nghị định thư") == ()


def test_a_title_alone_stands_for_the_one_person_the_article_gave_it() -> None:
    sentences = [
        "Thủ tướng Chính phủ Phạm Minh Chính tiếp Bộ trưởng Phan Văn Giang và Bộ trưởng Bộ Quốc phòng Lào Chansamone.",
        "Cảm ơn Thủ tướng Chính phủ Lào Sonexay Siphandone, Thủ tướng Chính phủ cho biết, hợp tác là trụ cột.",
        "Bộ trưởng nhấn mạnh. Hai Bộ trưởng đã ký.",
    ]
    said = [mentions(s) for s in sentences]
    assert said[1] == [("thu tuong lao", "Sonexay Siphandone"), ("thu tuong", None)]
    # "Thủ tướng Chính phủ" is Phạm Minh Chính (the Lao one is "Thủ tướng Chính phủ Lào"), "Bộ
    # trưởng" is Phan Văn Giang, and "Hai Bộ trưởng" is no one person
    assert title_aliases(said) == [(), ("Phạm Minh Chính",), ("Phan Văn Giang",)]
    # a title the article gives to two people stands for neither
    two = [mentions("Đại tướng Phan Văn Giang gặp Đại tướng Chansamone Chanyalath."), mentions("Đại tướng cho biết.")]
    assert title_aliases(two) == [(), ()]


def test_places() -> None:
    assert has_place("tổ chức tại huyện Hướng Hóa, tỉnh Quảng Trị")
    assert has_place("Sáng 2/6, tại Trụ sở Bộ Quốc phòng")
    assert not has_place("Tại buổi tiếp, hai bên trao đổi")
    assert has_place("đầu tư, nhất là tại khu vực biên giới")
    assert not has_place("bảo vệ khu vực biên giới")  # what is guarded, not where something happened


def test_ordinals() -> None:
    assert ordinals("giao luu lan thu nhat") == {1}
    assert ordinals("the second exchange") == {2}
    assert ordinals("doi thoai chinh sach quoc phong lan thu 2") == {2}
    assert ordinals("the 9th exchange, lan dau") == {9, 1}
    assert ordinals("meetings of vietnam, laos and a third country") == set()  # not an edition


def test_editions_carry_their_event() -> None:
    text = "danh gia cao doi thoai chinh sach quoc phong lan thu 2 va giao luu huu nghi bien gioi lan thu nhat"
    (dialogue, d_words), (exchange, e_words) = editions(text)
    assert (dialogue, exchange) == (2, 1)
    assert " doi thoai " in d_words and " giao luu " in e_words and " doi thoai " not in e_words
    assert editions("what was agreed at the second border exchange?") == [(2, " border exchange ")]


def test_asked_terms_name_what_the_question_asks_for() -> None:
    def asked(question: str) -> list[str]:
        return [c.label for c in asked_terms(analyze(question))]

    assert asked("Which VinFast model did Vietnam give Laos?") == ["model"]
    assert asked("What was the budget of the 2022 cooperation plan?") == ["budget"]
    assert asked("Bộ Quốc phòng tặng Lào mẫu xe VinFast nào?") == ["mau xe"]
    assert asked("3 xe chỉ huy tặng Lào trị giá bao nhiêu?") == ["tri gia"]
    # a nationality is not what is asked, nor is a term outside the asked-for words
    assert asked("Which Vietnamese company made the cars?") == ["company"]
    assert asked("What did Vietnam and Laos sign in December 2021?") == []


def test_unsaid_terms_are_lexicon_terms_no_article_uses(bot: ChatBot) -> None:
    table = SentenceTable(bot.index)

    def unsaid(question: str) -> list[str]:
        return [c.label for c in unsaid_terms(analyze(question), table)]

    assert unsaid("Chi phí tổ chức giao lưu biên giới là bao nhiêu?") == ["chi phi"]
    assert unsaid("What was the theme of the conference?") == ["theme"]
    # terms the articles use; words that frame the answer ("which city"), places in passing
    assert unsaid("What did the two ministers sign?") == []
    assert unsaid("In which city were the attachés received?") == []
    assert unsaid("How did the premier describe Hanoi–Vientiane ties?") == []
    # "ASEAN" is spelled out in the articles ("Hiệp hội các quốc gia Đông Nam Á")
    assert unsaid("Which ASEAN events was Laos invited to?") == []


def _fit_on(table: SentenceTable):
    """``fit(question, text, dates)``: the type fit of ``text`` for ``question`` over ``table``."""
    def fit(question: str, text: str, dates: tuple[str, ...] = ()) -> float:
        return type_fit(text, padded(text), dates, analyze(question), table)
    return fit


def test_type_fit_of_counts_units_and_spans(bot: ChatBot) -> None:
    fit = _fit_on(SentenceTable(bot.index))

    # a number after a noun names one of them ("cột mốc 605"), it does not count them
    assert fit("Có bao nhiêu cột mốc trên biên giới?", "chào cột mốc 605 thuộc cửa khẩu Lao Bảo") == 0.0
    assert fit("Hai Bộ trưởng chào cột mốc số mấy?", "chào cột mốc 605 thuộc cửa khẩu Lao Bảo") == 1.0
    assert fit("What was the number of the marker they saluted?", "chào cột mốc 605 thuộc cửa khẩu Lao Bảo") == 1.0
    # people are counted as people; tonnes come with their unit
    assert fit("How many people attended the ceremony?", "Bộ trưởng hai nước dự lễ") == 0.0
    assert fit("Bao nhiêu người dự lễ?", "có 200 người dự lễ") == 1.0
    assert fit("Bao nhiêu tấn vật tư đã được hỗ trợ?", "hai nước hỗ trợ nhau vật tư") == 0.0
    assert fit("Bao nhiêu tấn vật tư đã được hỗ trợ?", "hỗ trợ 30 tấn vật tư") == 1.0
    # an anniversary is no span of time, unless the anniversary is asked
    assert fit("How long did the meeting last?", "dự Lễ kỷ niệm 80 năm Ngày thành lập Quân đội") == 0.0
    assert fit("How long did the meeting last?", "dự Lễ kỷ niệm hai năm Ngày thành lập Trung tâm") == 0.0  # in words
    assert fit("How long did the meeting last?", "cuộc gặp kéo dài 2 giờ") == 1.0
    assert fit("How long did the meeting last?", "quan hệ hai nước ngày càng phát triển") == 0.0  # "increasingly"
    assert fit("Lào kỷ niệm bao nhiêu năm Quốc khánh?", "kỷ niệm 50 năm Quốc khánh") == 1.0


def test_type_fit(bot: ChatBot) -> None:
    table = SentenceTable(bot.index)
    fit = _fit_on(table)

    assert fit("How many command vehicles were given?", "tặng 3 xe chỉ huy hãng Vinfast") == 1.0
    assert fit("How many fireworks were given?", "tặng 3 xe chỉ huy; gửi tặng pháo hoa") == 0.0  # 3 counts the cars
    # a Vietnamese count of something no article names ("liều": doses) has no number to give,
    # though "Covid-19" carries one; a classifier ("chiếc") does not hide the noun after it
    assert fit("Việt Nam viện trợ cho Lào bao nhiêu liều vắc-xin COVID-19?", "dịch Covid-19 diễn biến phức tạp") == 0.0
    assert fit("Bộ Quốc phòng tặng Lào mấy chiếc xe chỉ huy?", "tặng 3 xe chỉ huy hãng Vinfast") == 1.0
    # two of the question's words starting at the same place in what it counts
    tied = Query("bao nhiêu liều vắc-xin", "vi", "number", focus="lieu vac xin",
                 concepts=(Concept("lieu vac", ("lieu vac",)), Concept("lieu", ("lieu",))))
    assert counted_unknown(tied, table)
    assert fit("Who hosted Khamliang Outhakaysone?", "Thủ tướng Phạm Minh Chính tiếp Thượng tướng Khamliang Outhakaysone") == 1.0
    assert fit("Who hosted Khamliang Outhakaysone?", "Thượng tướng Khamliang Outhakaysone cho biết") == 0.0  # named already
    assert fit("What date were the talks?", "hội đàm", ("2022-06-02",)) == 1.0
    assert fit("What date were the talks?", "năm nay", ("2025",)) == 0.0
    # "when": a day answers best, a month less, a year least; "which month" is answered by a month
    assert fit("When were the talks held?", "hội đàm", ("2021-12-12",)) == 1.0
    assert 0.4 < fit("When were the talks held?", "hội đàm", ("2021-12",)) < 1.0
    assert fit("When were the talks held?", "hội đàm", ("2021",)) == 0.4
    assert fit("In which month were the talks held?", "hội đàm", ("2021-12",)) == 1.0
    assert fit("Hội đàm diễn ra vào tháng mấy?", "hội đàm", ("2021-12",)) == 1.0
    assert fit("What was signed?", "hai Bộ trưởng đã ký Nghị định thư") == 1.0
    # number words count with their tone marks only: "hài cốt" holds no "hai" (two)
    assert fit("How many sets of remains were repatriated?", "hồi hương hài cốt liệt sĩ") == 0.0
    assert fit("How many sets of remains were repatriated?", "hồi hương hai hài cốt") == 1.0
    assert fit("Bao nhiêu nước tham gia?", "lực lượng của ba nước tham gia") == 1.0
    # "which province": a place named by its province
    assert fit("Cửa khẩu Lao Bảo nằm ở tỉnh nào?", "tại huyện Hướng Hóa, tỉnh Quảng Trị") == 1.0
    assert fit("Cửa khẩu Lao Bảo nằm ở tỉnh nào?", "chào cột mốc 605 thuộc cửa khẩu Lao Bảo") == 0.5
    # a forum is where one side backs the other ("ủng hộ nhau ở đâu"), less surely than a place
    assert 0.0 < fit("Hai bên ủng hộ nhau ở đâu?", "ủng hộ lẫn nhau trên các diễn đàn đa phương") < 1.0
    assert fit("Hai bên ủng hộ nhau ở đâu?", "ủng hộ lẫn nhau") == 0.0
    # a question about someone's exact words wants a quoted passage
    assert fit("What motto did the premier propose?", 'trên tinh thần "cùng lắng nghe và thấu hiểu"') == 1.0
    assert fit("What motto did the premier propose?", "trên tinh thần cùng lắng nghe") == 0.0
    # a list that ends on what is asked ("a, b và các tội phạm ..."); "loại tội" is no word to find
    crimes = "Hai bên phối hợp chống những loại tội phạm nào?"
    assert fit(crimes, "phối hợp bảo vệ biên giới, chống buôn lậu, ma túy và các tội phạm xuyên biên giới") == 1.0
    assert fit(crimes, "phối hợp bảo vệ biên giới và phòng chống tội phạm") == 0.0
    # a name the year was given is quoted; "called on" is a visit, not a name
    assert fit("năm 2022 được gọi là năm gì?", 'Năm 2022 được xác định là "Năm Đoàn kết hữu nghị"') == 1.0
    assert fit("năm 2022 được gọi là năm gì?", "Năm 2022 là năm đoàn kết hữu nghị") == 0.0
    assert fit("When he called on the minister, what did he say?", 'ông nói "cảm ơn"') == 0.0
    # a why-question wants a reason or a purpose; "đề nghị" holds no "để"
    assert fit("Why did the minister express sympathy?", "chia sẻ trước những thiệt hại do bão lũ vừa qua") == 1.0
    assert fit("Vì sao Việt Nam tặng pháo hoa?", "gửi tặng pháo hoa để chào mừng lễ kỷ niệm") == 1.0
    assert fit("Why did the minister express sympathy?", "Thiếu tướng đề nghị hai bên phối hợp") == 0.0
    assert fit("Why did they meet?", "Đoàn do Đại tướng Phan Văn Giang dẫn đầu") == 0.0  # "do ... dẫn đầu": led by
    assert fit("Why was Vietnam ready to help?", "Với kinh nghiệm tổ chức các hoạt động lớn, Bộ Quốc phòng sẵn sàng hỗ trợ") == 1.0
    # why someone was somewhere: the visit or the event they came to attend
    visit = "đoàn đại biểu Bộ Quốc phòng Lào đang thăm chính thức Việt Nam và dự Lễ kỷ niệm 80 năm"
    assert fit("Why was the Lao defence delegation in Vietnam in December 2024?", visit) == 1.0
    assert fit("Vì sao đoàn Lào sang Việt Nam?", visit) == 1.0
    assert fit("Why did the delegation sign the plan?", visit) == 0.0  # not a question of being there
    # "what did X share": the passage saying it with that verb, half a fit; "say" is any statement
    assert fit("What did the Lao minister share with Vietnam?", "Khamliang chia sẻ trước những thiệt hại do bão lũ") == 0.5
    assert fit("What did the Lao minister share with Vietnam?", "Khamliang đánh giá cao kết quả hợp tác") == 0.0
    assert fit("What did the premier say about trade?", "Thủ tướng cho biết Việt Nam sẵn sàng hỗ trợ") == 0.0
    # "how did he describe X", "X có vị trí thế nào": the passage says what X is
    assert fit("How did the premier describe defence cooperation?",
               "hợp tác quốc phòng là một trong những trụ cột quan trọng") == 1.0
    assert fit("How did the premier describe defence cooperation?", "quan hệ hợp tác ngày càng bền chặt") == 0.0
    assert fit("Hợp tác quốc phòng có vị trí thế nào?", "hợp tác quốc phòng luôn xứng đáng là một trụ cột") == 1.0
    assert fit("How did the premier describe defence cooperation?", "hợp tác quốc phòng, nhất là đào tạo") == 0.0
    assert fit("How did the premier describe the support of Laos?", "sự ủng hộ của Lào, đặc biệt là sự ủng hộ") == 0.0
    # ... what the question is about, not the setting of most sentences ("Việt Nam", "Lào")
    assert fit("Bộ trưởng Lào đánh giá thế nào về cuộc hội đàm với Bộ trưởng Việt Nam?",
               "quan hệ hợp tác toàn diện Việt Nam-Lào là tài sản vô giá") == 0.0
    assert fit("Bộ trưởng Lào đánh giá thế nào về cuộc hội đàm với Bộ trưởng Việt Nam?",
               "cuộc hội đàm là dấu mốc quan trọng") == 1.0
    # "how long did he serve": a span of time, not any number ("hai nước" counts two countries)
    assert fit("How long did the colonel serve as attaché?", "đánh giá cao nhiệm kỳ công tác giữa hai nước") == 0.0
    assert fit("How long did the colonel serve as attaché?", "sau 3 năm công tác tại Việt Nam") == 1.0
    assert fit("Đại tá làm tùy viên trong bao lâu?", "trong ba năm công tác") == 1.0
    # "which country": a country the question does not name ("which province" wants a place)
    assert fit("Besides Vietnam and Laos, which country's army joins the meetings?",
               "quan hệ giữa Quân đội 3 nước Việt Nam – Lào - Campuchia") == 1.0
    assert fit("Besides Vietnam and Laos, which country's army joins the meetings?",
               "hội đàm tại tỉnh Quảng Trị giữa Việt Nam và Lào") == 0.0
    # "what challenges": a passage naming them and going on to list them
    assert fit("What security challenges were raised?",
               "tiềm ẩn nhiều rủi ro, nhất là khi các thách thức an ninh truyền thống như: Dịch bệnh, biến đổi khí hậu") == 1.0
    assert fit("What security challenges were raised?", "đẩy lùi mọi thách thức, âm mưu chia rẽ về an ninh") == 0.0
    assert fit("What security challenges were raised?", "các thách thức an ninh và nhu cầu hợp tác") == 0.0  # "nhu cầu" (need) is no "như"
    # "which round": the edition
    assert fit("Which round of the dialogue was praised?", "Đối thoại chính sách Quốc phòng lần thứ 2") == 1.0
    assert fit("Which round of the dialogue was praised?", "khẳng định đây là cơ chế quan trọng") == 0.0
    # a part's verb, not one it borrows from the other part ("how did they describe" → "khẳng định")
    both = analyze("Which delegation did the minister welcome, and how did he describe the mechanism?")
    first = both.parts[0]
    assert type_fit("khẳng định đây là cơ chế", padded("khẳng định đây là cơ chế"), (), first, table) == 0.0


def test_sentence_table_matches_the_index(bot: ChatBot) -> None:
    table = SentenceTable(bot.index)
    assert len(table.sentences) == len(bot.index.sentences) == len(table.vectors)
    for sent in table.sentences:
        assert bot.index.articles[sent.article_id].body[sent.start : sent.end] == sent.text
    leaning = [s for s in table.sentences if s.text.startswith("Ông nhấn mạnh thúc đẩy hợp tác")]
    assert leaning and "sonexay siphandone" in leaning[0].refers  # "Ông" refers to the sentence before
    assert table.df("nghi dinh thu") >= 3 and table.in_corpus("savannakhet")
    # "Bên cạnh đó, ..." follows a photo caption set between paragraphs: it leans on the paragraph
    beside = [i for i, s in enumerate(table.sentences) if s.text.startswith("Bên cạnh đó, Bộ Chỉ huy BĐBP")]
    assert beside and is_caption(table.sentences[beside[0] - 1].text)
    assert table.sentences[beside[0]].refers and "le duc thai" not in table.sentences[beside[0]].refers


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("dự Lễ kỷ niệm 80 năm Ngày thành lập Quân đội Nhân dân Việt Nam, 35 năm Ngày hội Quốc phòng", {80, 35}),
        ("Lễ diễu binh kỷ niệm 50 năm Quốc khánh Lào diễn ra vào ngày nào?", {50}),
        ("When is the 50th anniversary of Laos's National Day?", {50}),
        ("Vietnam and Laos marked 60 years of diplomatic relations", {60}),
        ("Sơ kết 3 năm thực hiện Thỏa thuận hợp tác biên phòng", set()),  # a review, no anniversary
        ("Kế hoạch hợp tác năm 2022", set()),
    ],
)
def test_anniversaries(text: str, years: set[int]) -> None:
    assert anniversaries(fold(text)) == years


def test_a_person_named_next_to_a_country(bot: ChatBot) -> None:
    table = SentenceTable(bot.index)
    assert table.person_near("lao")  # "Bộ trưởng Bộ Quốc phòng Lào, Thượng tướng Khamliang ..."
    assert not table.person_near("campuchia")  # only "ba nước Việt Nam - Lào - Campuchia"
    assert table.delegation_named("lao")  # "Đoàn Bộ Tổng Tham mưu Quân đội nhân dân Lào"
    assert not table.delegation_named("campuchia")  # "quan hệ đoàn kết ... ba nước" is no delegation


def test_posts_near_are_the_posts_of_the_person_named() -> None:
    from rag.evidence import posts_near

    name, others = ["khamliang outhakaysone"], ["nguyen tan cuong", "phan van giang"]
    # after the name, as far as a long apposition ("được ... giao phó trọng trách Thứ trưởng ...")
    given = padded("Chúc mừng Trung tướng Khamliang Outhakaysone được lãnh đạo Đảng, Nhà nước Lào tin tưởng giao "
                   "phó trọng trách Thứ trưởng Bộ Quốc phòng, Tổng Tham mưu trưởng Quân đội nhân dân Lào")
    assert posts_near(given, name, others) == {"thu truong", "tong tham muu truong"}
    # before the name with no verb between; not the host's posts before "chủ trì Lễ đón ..."
    assert posts_near(padded("Tổng Tham mưu trưởng Quân đội nhân dân Lào Khamliang Outhakaysone tới chào"), name,
                      others) == {"tong tham muu truong"}
    host = padded("Thượng tướng Nguyễn Tân Cương, Tổng Tham mưu trưởng, Thứ trưởng Bộ Quốc phòng Việt Nam chủ trì "
                  "Lễ đón Trung tướng Khamliang Outhakaysone")
    assert posts_near(host, name, others) == set()
    # someone else's name ends the window; "ba Bộ trưởng" are three people's posts
    assert posts_near(padded("Khamliang Outhakaysone tới chào Đại tướng Phan Văn Giang, Bộ trưởng"), name,
                      others) == set()
    assert posts_near(padded("Khamliang Outhakaysone tin tưởng Cuộc gặp giữa ba Bộ trưởng"), name, others) == set()

