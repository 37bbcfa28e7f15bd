from selfinstruct.parse import parse_completion


def test_parses_completion_continuing_the_prompt(test_data):
    result = parse_completion((test_data / "completion_ok.txt").read_text(), 4, "stop")
    assert [r["instruction"] for r in result.records] == [
        "Suggest two names for a bakery that specialises in sourdough.",
        "Rewrite the sentence in the passive voice.",
        "Decide whether the number is prime.",
    ]
    assert result.records[0]["input"] == ""  # <noinput> becomes empty
    assert result.records[0]["output"] == "1. Rise & Crumb\n2. The Patient Loaf"  # a list inside an output stays
    assert result.records[1]["input"] == "The committee approved the new budget."
    assert result.failures == {}


def test_truncated_reply_drops_its_last_task(test_data):
    text = (test_data / "completion_truncated.txt").read_text()
    cut = parse_completion(text, 4, "length")
    assert [r["instruction"] for r in cut.records] == ['Give a synonym for the word "happy".']
    assert cut.failures == {"truncated": 1}
    whole = parse_completion(text, 4, "stop")
    assert len(whole.records) == 2


def test_chat_style_labels_with_markdown_and_spacing():
    text = ("**4. Instruction:** Name a prime number above 50.\n**4. Input:** <noinput>\n**4. Output:** 53\n\n"
            "###\n5 . instruction :   Translate 'thank you' into Spanish.\n5. Input:\n\n5. Output:\nGracias.")
    result = parse_completion(text, 4)
    assert [(r["instruction"], r["input"], r["output"]) for r in result.records] == [
        ("Name a prime number above 50.", "", "53"),
        ("Translate 'thank you' into Spanish.", "", "Gracias."),
    ]


def test_incomplete_tasks_are_counted_not_kept():
    text = ("Name a colour.\n4. Output:\nBlue\n###\n5. Instruction: Name a fruit.\n5. Input:\n<noinput>\n"
            "5. Output:\nPear\n###\n6. Instruction:\n6. Input:\n<noinput>\n6. Output:\nx")
    result = parse_completion(text, 4)
    assert [r["instruction"] for r in result.records] == ["Name a fruit."]
    assert result.failures == {"parse_incomplete": 2}


def test_reply_without_any_label_is_one_unparseable_task():
    result = parse_completion("I cannot help with that.", 4)
    assert result.records == [] and result.failures == {"parse_incomplete": 1}
