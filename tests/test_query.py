"""Question analysis: language, type, periods, names, lexicon concepts, two-part questions, focus."""

from __future__ import annotations

import pytest

from rag.evidence import covers
from rag.query import (
    ASKS_CHARACTER,
    analyze,
    country_posts,
    delegation_countries,
    detect_language,
    owner_countries,
    question_type,
)
from rag.text import fold, padded


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("What was signed in December 2021?", "en"),
        ("Việt Nam và Lào đã ký những văn kiện gì?", "vi"),
        ("What did Phan Văn Giang sign?", "en"),  # a Vietnamese name in an English question
        ("ai ky nghi dinh thu", "vi"),  # typed without accents
        ("bo doi bien phong hai nuoc so ket may nam thuc hien thoa thuan", "vi"),  # and without question words
        ("What did Pham Minh Chinh say to the Lao minister in Hanoi?", "en"),
    ],
)
def test_language(question: str, lang: str) -> None:
    assert detect_language(question) == lang


@pytest.mark.parametrize(
    ("question", "qtype"),
    [
        ("Who headed the Lao delegation?", "who"),
        ("Which Lao party and state leader received a courtesy call?", "who"),
        ("What did the two defence ministers sign after their talks?", "signed"),
        ("What titles did Thongloun Sisoulith hold when Phan Van Giang called on him?", "rank"),
        ("When was the protocol signed?", "when"),
        ("Which anniversary of the army's founding was celebrated?", "number"),
        ("Which round of the defence policy dialogue did the ministers commend?", "number"),
        # "kỳ" (định kỳ: periodic; nhiệm kỳ: term) folds to "ky" as "ký" (sign) does; its tone tells them apart
        ("Ba Bộ trưởng có cơ chế gặp gỡ định kỳ nào không?", "what"),
        ("Nhiệm kỳ của đại tá có những kết quả gì?", "what"),
        ("Hai bên đã ký những gì?", "signed"),
        ("hai ben da ky nhung gi", "signed"),  # typed without tone marks: still "ký"
        ("Đại tá làm tùy viên trong bao lâu?", "number"),
        ("Which units patrol with Vietnam's border posts?", "what"),
        # a post alone asks who held it; a thing after the post is what is asked
        ("Outgoing Lao defence attaché in Vietnam in 2020?", "who"),
        ("Bộ trưởng Quốc phòng Lào năm 2024?", "who"),
        ("Lao minister gifts in 2025?", "what"),  # border posts are places, not posts held
        ("How many command vehicles were given?", "number"),
        ("In which province did the exchange take place?", "where"),
        ("Ai dẫn đầu đoàn Việt Nam?", "who"),
        ("Vị Bộ trưởng Quốc phòng Lào nào sang dự?", "who"),
        ("Việc này có vị trí thế nào?", "what"),  # "vị trí" is not "vị ... nào"
        ("Thiếu tướng Lê Đức Thái đại diện đơn vị nào?", "what"),  # "đơn vị nào" is a unit, not "vị nào"
        ("Vị tướng nào dẫn đầu đoàn Lào?", "who"),
        ("Nghị định thư hiện nay là giai đoạn nào?", "what"),  # a span of years, not a signing
        ("Nghị định thư mới nhất áp dụng giai đoạn nào?", "what"),
        ("Diễn tập diễn ra vào ngày nào?", "when"),
        # a leading date sets the scene: "when" later in the question is a clause, not what is asked
        ("In June 2022, what did the two chiefs of general staff agree on when they met?", "what"),
        ("In what capacity did Khamliang attend the talks, and who else came?", "rank"),  # no scene
        # "where does it rank" asks for a standing, not a place or a post
        ("How does defence cooperation with Vietnam rank among Laos's priorities?", "what"),
        # "on what subject" is no date
        ("What did the two ministers sign in October 2025, and on what subject?", "signed"),
        # a verb ends the noun phrase: the reasons are asked for, not the minister they brought
        ("What reasons brought the Lao defence minister to Hanoi in December 2024?", "what"),
        ("Which Lao minister led the delegation?", "who"),
        # "Việt Nam nào" folds like "năm nào" (which year): the leader asked for is a who
        ("Lãnh đạo Bộ Quốc phòng Việt Nam nào cùng dự buổi tiếp?", "who"),
        ("Hai nước ký nghị định thư năm nào?", "when"),
        ("Lễ đón được tổ chức ở đâu?", "where"),
        ("Ông Khamliang giữ chức vụ gì?", "rank"),
        ("Ông giữ cương vị gì?", "rank"),
        ("dai ta vongxay hua se lam gi tren cuong vi tuy vien quoc phong moi", "what"),  # "in the post of": framing
        ("Việt Nam tặng Lào mấy chiếc xe?", "number"),
        ("Hai bên ký kết văn kiện gì?", "signed"),
        # a clause later in an English question does not decide its type
        ("What did the new attaché promise to do when he took up the job?", "what"),
        ("What did the minister who hosted them stress?", "what"),
        ("What is the name of the Lao attaché?", "who"),
        ("Whereabouts did the exchange take place?", "where"),
        # a yes/no question's "when" clause is context; a value is an amount
        ("Did the Prime Minister say Vietnam was ready to help when he met the minister?", "what"),
        ("Was the protocol signed when the ministers met in Hanoi?", "signed"),
        ("What was the total value of the vehicles Vietnam donated?", "number"),
        ("What is the cost of the fireworks?", "number"),
        ("What was the total monetary value of the vehicles?", "number"),
        # a leading "When X did Y," sets the scene; "When was ..." asks for a date
        ("When the PM received the Lao minister in 2024, which Vietnamese minister also sat in?", "who"),
        ("When was the protocol signed, and who signed it?", "when"),
        ("Which Vietnamese cabinet member also sat in on the meeting?", "who"),
        # "General" here is who was asked, not what the question asks for
        ("Which upcoming events did General Nguyen Tan Cuong invite the Lao leaders to attend?", "what"),
        ("In 2021, which Lao minister signed the protocol?", "who"),
        # "Given X, ..." sets the scene too
        ("Given the COVID-19 situation in Laos, what did the minister offer?", "what"),
    ],
)
def test_question_type(question: str, qtype: str) -> None:
    assert question_type(question) == qtype


def test_concepts_names_and_periods() -> None:
    q = analyze("Ngày 18/12/2024, Thủ tướng Phạm Minh Chính tiếp ai?")
    assert [p.iso for p in q.periods] == ["2024-12-18"]
    assert q.names == ("pham minh chinh",)
    labels = {c.label: c.kind for c in q.concepts}
    assert labels["pham minh chinh"] == "name" and labels["tiep"] == "lexicon"
    assert not any("18" in label or "2024" in label for label in labels)  # dates are not words to match

    q = analyze("What did Thailand's defence minister discuss with Phan Van Giang in 2022?")
    assert q.names == ("phan van giang",)  # "Thailand" is a lexicon country, not an unknown name
    assert {"thailand", "defence minister"} <= {c.label for c in q.concepts}
    assert "thai lan" in next(c for c in q.concepts if c.label == "thailand").phrases

    # abbreviations ("QP", "BQP": quốc phòng) and a capitalised opening word ("Buổi", "Dịp") are no names
    assert analyze("Vì sao Bộ QP Việt Nam tặng pháo hoa cho phía Lào?").names == ()
    assert analyze("phía VN mời lãnh đạo BQP Lào dự những sự kiện gì?").names == ()
    # short capitals a busy reader types ("TT": Thủ or Thượng tướng, "BT", "CP") are no names either
    assert analyze("TT Lào Sonexay coi hợp tác QP với VN ở mức nào?").names == ("lao sonexay",)  # as articles write it
    assert analyze("2 BT QP ký văn kiện gì, theo thỏa thuận CP?").names == ()
    assert analyze("Buổi Thứ trưởng Hoàng Xuân Chiến tiếp tùy viên diễn ra ở đâu?").names == ("hoang xuan chien",)
    assert analyze("Dịp Tổng Tham mưu trưởng Lào sang thăm, Việt Nam mời lãnh đạo Lào dự gì?").names == ()
    # a month or a weekday is a time, not someone the articles must name
    assert analyze("What did Laos celebrate in 2022, according to the talks that June?").names == ()
    # "the Giang-Khamliang talks": two people, one word each
    assert analyze("What followed the Giang-Khamliang talks?").names == ("giang", "khamliang")

    # "ở" (at) is a stop word; "hộ" (ủng hộ) and "bão" (typhoon) fold like the stop words "họ" and "báo"
    labels = {c.label for c in analyze("Hai bên sẽ ủng hộ nhau ở đâu?").concepts}
    assert "ung ho" in labels and "o" not in labels
    assert "bao lu" in {c.label for c in analyze("Bão lũ gây thiệt hại gì?").concepts}
    assert "ky" in {c.label for c in analyze("Họ đã ký gì?").concepts}
    assert "de nghi" in {c.label for c in analyze("Thủ tướng đề nghị gì về biên giới?").concepts}  # not "để"

    q = analyze("Ông Nguyễn Tân Cương mang quân hàm gì?")
    assert q.names == ("nguyen tan cuong",)  # the honorific is not part of the name
    # "tân" (new) is a lexicon word, except as a syllable of a name
    assert "tan" in {c.label for c in analyze("Ai là tân Tùy viên quốc phòng Lào?").concepts if c.kind == "lexicon"}

    # "Đoàn Bộ Quốc phòng Lào" is the ministry's delegation: "Bộ" heads an institution's name
    q = analyze("Đoàn Bộ Quốc phòng Lào sang Việt Nam tháng 12/2024 để dự những sự kiện nào?")
    assert q.names == ()
    assert analyze("Đại tướng Phan Văn Giang tiếp ai?").names == ("phan van giang",)
    # a plural title is not part of the names after it
    q = analyze("Why did Colonels Bangsy Xaysomkhoth and Vongxay Inthakham visit Hanoi?")
    assert q.names == ("bangsy xaysomkhoth", "vongxay inthakham")


def test_words_setting_the_scene_weigh_less() -> None:
    # "when he received the Lao minister" places the event; what he said is the answer
    q = analyze("What did the Prime Minister stress when he received the Lao defence minister?")
    weights = {c.label: c.weight for c in q.concepts}
    assert weights["received"] == weights["defence minister"] == 0.5
    assert weights["prime minister"] == 1.0 and weights["stress"] > 1.0
    # ... Vietnamese words the lexicon does not know too ("Khi gặp Thủ tướng ...": the scene)
    weights = {c.label: c.weight for c in analyze("Khi gặp Thủ tướng cuối năm 2024, Khamliang cho biết hai bên thống nhất gì?").concepts}
    assert weights["thu tuong"] == 0.5 and weights["thong nhat"] == 1.0
    # a when-question's "when" is what it asks
    assert all(c.weight == 1.0 for c in analyze("When did the Prime Minister receive the minister?").concepts)


def test_evening_is_not_the_word_that_folds_like_it() -> None:
    # "tối" (evening) folds to "toi" as "tới" (next: "thời gian tới") does; the lexicon
    # translates "evening" by phrases only the evening has
    evening = next(c for c in analyze("Who hosted the minister on the evening of 18 December?").concepts
                   if c.label == "evening")
    assert covers(padded("Chiều tối 18/12, Thủ tướng đã tiếp Thượng tướng Khamliang."), evening)
    assert not covers(padded("Hai bên nhất trí phương hướng hợp tác trong thời gian tới."), evening)


def test_liken_is_not_the_title_word_that_folds_like_it() -> None:
    assert ASKS_CHARACTER.search(fold("Thủ tướng ví hợp tác quốc phòng là như thế nào?"))
    assert not ASKS_CHARACTER.search(fold("Theo vị khách Lào, cuộc gặp đạt kết quả ra sao?"))  # "vị": a title word
    # "vị trí của X ... như thế nào": the words between do not hide that X's place is asked
    assert ASKS_CHARACTER.search(fold("Thủ tướng nói về vị trí của hợp tác quốc phòng trong quan hệ hai nước như thế nào?"))


def test_a_characterising_verb_frames_the_question() -> None:
    # "how did he describe X": the answer says what X is, in whatever words; X weighs, "describe" little
    weights = {c.label: c.weight for c in analyze("How did the premier describe defence cooperation?").concepts}
    assert weights["describe"] == 0.3 and weights["defence cooperation"] == 1.0


def test_two_part_questions() -> None:
    q = analyze("Who was Laos's defence minister in December 2021, and who held that post in December 2024?")
    assert [p.periods[0].iso for p in q.parts] == ["2021-12", "2024-12"]
    second = q.parts[1]
    borrowed = {c.label: c.weight for c in second.concepts}
    assert borrowed["defence minister"] == 0.3  # "that post" borrows from the first part, lightly
    q = analyze("Which Vietnamese officials hosted Lao defence visitors in September 2020 and in December 2024?")
    assert [p.split for p in q.parts] == ["period", "period"]
    # "When X, what Y?": the subordinate clause is context, not a second question
    assert analyze("When the Lao chief of staff visited in mid-2022, what did the minister say?").parts == ()
    assert analyze("What was signed in December 2021?").parts == ()
    # "According to X, what Y?": whose account it is, not a question of its own
    assert analyze("According to the Lao defence minister, what did the two ministers agree on?").parts == ()
    assert analyze("Theo Bộ trưởng Lào, hai bên nhất trí những gì?").parts == ()
    assert analyze("Given the COVID-19 situation in Laos, what did the minister offer in December 2021?").parts == ()
    # a clause with no question word of its own sets the scene
    assert analyze("In his December 2024 meeting with the Lao defence minister, what spirit did PM Chinh urge?").parts == ()
    assert analyze("On the Lao side, which units run joint patrols with Vietnam's border guards?").parts == ()


def test_an_elliptical_part_borrows_the_people_and_period_it_points_back_to() -> None:
    q = analyze("Which Lao anniversary in 2025 did Phan Van Giang mention, and why did he say Vietnam was ready to help?")
    second = q.parts[1]
    assert len(q.parts) == 2 and second.qtype == "what" and second.text.startswith("why")
    # "he" is Phan Van Giang, in 2025: his name (lightly) and the year carry over
    assert {c.label: c.weight for c in second.concepts}["phan van giang"] == 0.3
    assert [p.iso for p in second.periods] == ["2025"]
    # a part that does not point back keeps its own (lack of) period, and a who-part does not
    # borrow the people it is asking about
    q = analyze("Ai đã mời lãnh đạo Lào dự Triển lãm, và năm 2024 vị Bộ trưởng Lào nào sang dự Triển lãm?")
    assert len(q.parts) == 2 and q.parts[0].periods == ()
    q = analyze("Who signed the protocol with Phan Van Giang in 2021, and who did he meet in 2024?")
    assert all("phan van giang" not in {c.label for c in p.concepts if c.weight < 1} for p in q.parts)


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("How many command vehicles did Vietnam give?", "command vehicles"),
        ("How much did the vehicles cost?", "cost"),
        ("Việt Nam tặng Lào bao nhiêu quả pháo hoa?", "qua phao hoa"),
        ("How many countries' armies took part?", "countries"),
        ("How many sets of remains were brought home?", "remains"),  # what is counted, not the measure
        ("Chương trình giao lưu gồm những hoạt động gì?", "hoat dong"),  # "những X gì/nào": X is asked for
        ("Hai bên ký các văn kiện nào?", "van kien"),
        ("How many Lao students received gifts?", "lao students"),  # a verb ends what is counted
        ("How many border posts took part?", "border posts"),
    ],
)
def test_focus(question: str, focus: str) -> None:
    assert analyze(question).focus == focus


def test_statement_verbs_weigh_more_in_what_questions() -> None:
    """"What did he pledge?" is answered by the sentence that pledges, not one naming him."""
    weight = {c.label: c.weight for c in analyze("What did the new attaché promise?").concepts}
    assert weight["promise"] > weight["attache"] == 1.0
    assert all(c.weight == 1.0 for c in analyze("When did he promise it?").concepts)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is Cambodia's defence minister?", {"bo truong bo quoc phong campuchia", "bo truong quoc phong campuchia"}),
        ("Bộ trưởng Quốc phòng Campuchia là ai?", {"bo truong quoc phong campuchia"}),
        ("Tùy viên quốc phòng Việt Nam tại Lào năm 2020 là ai?", {"tuy vien quoc phong tai lao",
                                                                "tuy vien quoc phong viet nam tai lao"}),
        ("Who was the Lao defence attaché in Vietnam?", {"tuy vien quoc phong lao tai viet nam",
                                                          "tuy vien quoc phong quan doi nhan dan lao tai viet nam"}),
        # a capital stands for its country
        ("Who was Vietnam's defence attaché in Vientiane in 2020?", {"tuy vien quoc phong viet nam tai lao"}),
        ("Tùy viên quốc phòng Lào tại Hà Nội là ai?", {"tuy vien quoc phong lao tai viet nam"}),
        # a post held at home: "in Hanoi" is where he was received, not part of the post
        ("Who welcomed the Lao chief of general staff in Hanoi?", {"tong tham muu truong quan doi nhan dan lao"}),
        # Vietnamese news names Vietnam's own officials without the country: nothing to check
        ("Who is Vietnam's defence minister?", set()),
        ("Who signed the protocol?", set()),
    ],
)
def test_country_posts(question: str, expected: set[str]) -> None:
    asked = country_posts(question)
    assert len(asked) == (1 if expected else 0)
    assert expected <= set(asked[0] if asked else ())


def test_abbreviations_are_spelled_out_before_posts_are_read() -> None:
    assert "bo truong bo quoc phong campuchia" in country_posts("Bộ trưởng BQP Campuchia là ai?")[0]


def test_a_counted_thing_after_two_nationalities() -> None:
    assert analyze("How many Lao and Vietnamese students got gifts?").focus == "lao and vietnamese students"


def test_delegation_countries() -> None:
    assert delegation_countries("Who led Cambodia's delegation to the meeting?") == ["campuchia"]
    assert delegation_countries("Who headed the Lao delegation in Dec 2021?") == ["lao"]
    assert delegation_countries("Ai dẫn đầu đoàn đại biểu Bộ Quốc phòng Lào?") == ["lao"]
    assert delegation_countries("Ai là trưởng đoàn Campuchia?") == ["campuchia"]
    assert delegation_countries("Who led the delegation?") == []


def test_owner_countries() -> None:
    assert owner_countries("Who represented Cambodia at the meeting?") == ["campuchia"]
    assert owner_countries("Who was Laos's defence minister in 2024?") == ["lao"]
    assert owner_countries("Ai đại diện Campuchia dự cuộc gặp?") == ["campuchia"]
    # a list of countries names the event, not whose the person is; a name is not a country
    assert owner_countries("Who attended the Vietnam - Laos - Cambodia meeting?") == []
    assert owner_countries("What's Le Duc Thai's military rank?", ("le duc thai",)) == []
