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


# Replies in the shapes small instruction-tuned models write (tests/data/small_model/).

def _instructions(result):
    return [r["instruction"] for r in result.records]


def test_label_numbers_that_climb_on_every_label(test_data):
    text = (test_data / "small_model" / "climbing_numbers.txt").read_text()
    result = parse_completion(text, 4, "stop")
    assert _instructions(result) == ["Write a short thank-you note to a teacher.",
                                     "Convert the temperature from Celsius to Fahrenheit.",
                                     "Name three vegetables that grow well in cold weather."]
    assert result.records[1]["input"] == "25 degrees Celsius" and result.records[0]["input"] == ""
    assert result.failures == {"parse_incomplete": 1}  # the dangling "13. Instruction:"
    assert parse_completion(text, 4, "stop", profile="alpaca").records == []  # Alpaca's parser loses them all


def test_heading_labels_without_a_dot(test_data):
    text = (test_data / "small_model" / "heading_labels.txt").read_text()
    result = parse_completion(text, 4)
    assert _instructions(result) == ["Give two tips for staying focused while studying.",
                                     "Rewrite the sentence so that it sounds more formal."]
    assert result.records[0]["output"].startswith("1. Put your phone") and "2. Study" in result.records[0]["output"]
    assert result.records[1]["input"] == "Hey, can you send me that report soon?"


def test_plural_and_unnumbered_labels(test_data):
    result = parse_completion((test_data / "small_model" / "plural_and_unnumbered.txt").read_text(), 4)
    assert [(r["instruction"], r["input"], r["output"]) for r in result.records] == [
        ("Explain what a verb is to a ten-year-old.", "",
         "A verb is a word that tells you what someone or something does, like run, jump or think."),
        ("Sort the numbers from smallest to largest.", "9, 2, 7, 4", "2, 4, 7, 9"),
        ("Suggest a title for a blog post about saving money.", "", "Ten Small Habits That Add Up to Big Savings"),
    ]
    assert result.failures == {}


def test_every_instruction_label_starts_a_task_whatever_its_number(test_data):
    text = (test_data / "small_model" / "repeated_number.txt").read_text()
    assert _instructions(parse_completion(text, 4)) == ["Describe the taste of a lemon in one sentence.",
                                                        "List the primary colours.",
                                                        "Translate the greeting into French."]
    alpaca = parse_completion(text, 4, profile="alpaca")  # Alpaca expects 4, 5, 6: only the first chunk fits
    assert _instructions(alpaca) == ["Describe the taste of a lemon in one sentence."]
    assert alpaca.failures == {"parse_incomplete": 2}


def test_bullets_are_cleaned_under_strict_but_kept_for_alpacas_checks(test_data):
    from selfinstruct.sieve import Sieve
    from selfinstruct.sieve_options import SieveOptions

    text = (test_data / "small_model" / "bulleted.txt").read_text()
    strict = parse_completion(text, 4)
    assert _instructions(strict)[:2] == ["Summarize the main idea of the paragraph.", "Suggest a name for a pet goldfish."]
    alpaca = parse_completion(text, 4, profile="alpaca")
    assert _instructions(alpaca)[:2] == ["* Summarize the main idea of the paragraph.", "- Suggest a name for a pet goldfish."]
    request = {"id": 0, "num_examples": [3]}
    response = {"completions": [{"text": text, "finish_reason": "stop"}]}
    kept = Sieve([], SieveOptions(filters="alpaca")).admit_response(request, response)
    assert [r["instruction"] for r in kept] == ["Explain why the sky looks blue during the day."]
    sieve = Sieve([], SieveOptions(filters="alpaca"))
    sieve.admit_response(request, response)
    assert sieve.stats.drops == {"starts_with_punctuation": 2}
    assert len(Sieve([], SieveOptions(filters="strict")).admit_response(request, response)) == 3


def test_alpaca_parser_matches_alpacas_rules(test_data):
    text = (test_data / "completion_ok.txt").read_text()
    assert parse_completion(text, 4, profile="alpaca").records == parse_completion(text, 4).records
    cut = parse_completion((test_data / "completion_truncated.txt").read_text(), 4, "length", profile="alpaca")
    assert _instructions(cut) == ['Give a synonym for the word "happy".'] and cut.failures == {"truncated": 1}
    # Alpaca keeps an empty output (its checks look at the instruction only); strict does not.
    empty = " Name a large ocean.\n4. Input:\n<noinput>\n4. Output:\n"
    assert parse_completion(empty, 4, profile="alpaca").records == [
        {"instruction": "Name a large ocean.", "input": "", "output": ""}]
    assert parse_completion(empty, 4).records == []
