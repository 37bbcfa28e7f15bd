import pytest

from selfinstruct.filters import checks_for, filter_reason


def rec(instruction, output="A fine answer.", inp=""):
    return {"instruction": instruction, "input": inp, "output": output}


@pytest.mark.parametrize(("record", "reason"), [
    (rec("Name a colour"), "too_short"),
    (rec(" ".join(["word"] * 151)), "too_long"),
    (rec("Draw a map of France for me."), "blocked_word"),
    (rec("Describe the IMAGES in this book please."), "blocked_word"),
    (rec("Explain how to go to the station by bus."), "blocked_word"),
    (rec("Write a program that sorts a list."), "write_a_program"),
    (rec('"Quote" this sentence back to me.'), "starts_with_punctuation"),
    (rec("Écrivez une phrase sur la mer."), "non_ascii_start"),
    (rec("List three tips for better sleep.", output="N/A"), "empty_output"),
    (rec("List three tips for better sleep.", output="   "), "empty_output"),
    (rec("Render a 3D model of a house", output="<nooutput> This type of instruction cannot be fulfilled."),
     "empty_output"),
    (rec("Write a short program.", output=" <No-Output> (the program itself)"), "empty_output"),
    (rec("List three tips for better sleep.", output="<noinput>"), "noinput_leak"),
    (rec("Summarize the following article in two sentences."), "missing_input"),
    (rec("Translate the given sentence into German please."), "missing_input"),
    (rec("Tell me a joke about computers.", output="As an AI language model, I cannot tell jokes."), "refusal"),
    (rec("Tell me a joke about computers.", output="I'm sorry, but I cannot do that."), "refusal"),
    (rec("Tell me a joke about computers.", output="Tell me a joke about computers!"), "echo_output"),
    (rec("Tell me a joke about computers.", output="Why\x07 did the bit flip?"), "control_characters"),
])
def test_each_check_names_its_reason(record, reason):
    assert filter_reason(record, profile="strict") == reason


@pytest.mark.parametrize("instruction", [
    "Give three tips for staying healthy.",
    "Explain the difference between weather and climate.",
    "Summarize the following article in two sentences.",  # has an input below
    "What is the mapping between keys and values called?",  # 'map' only as part of a word
    "Classify the following fruit as a berry or not: banana",  # the input is given inline
    'Rewrite the following sentence in the past tense: "She walks home."',
    "Generate Python code that returns the square root of any given number.",
])
def test_good_records_pass(instruction):
    inp = "The article text." if "following" in instruction else ""
    assert filter_reason(rec(instruction, inp=inp), profile="strict") is None


def test_alpaca_profile_ignores_outputs():
    record = rec("List three tips for better sleep.", output="N/A")
    assert filter_reason(record, profile="alpaca") is None
    assert filter_reason(record, profile="strict") == "empty_output"


def test_write_a_program_is_case_sensitive_like_alpaca():
    assert filter_reason(rec("write a program that adds two numbers"), profile="alpaca") is None


def test_non_ascii_check_follows_language_under_strict_only():
    record = rec("Écrivez une phrase sur la mer.")
    assert filter_reason(record, profile="strict", language="fr") is None
    assert filter_reason(record, profile="alpaca", language="fr") == "non_ascii_start"


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown filter profile"):
        checks_for("lenient")
