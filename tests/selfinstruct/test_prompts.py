from selfinstruct.parse import parse_completion
from selfinstruct.prompts import load_template, render_prompt, stop_sequence


def examples():
    return [{"instruction": "Name a river.", "input": "", "output": "Nile"},
            {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"},
            {"instruction": "Spell the word backwards.", "input": "cat", "output": "tac"}]


def test_prompt_has_numbered_blocks_and_opens_the_next_task():
    prompt = render_prompt(load_template(), examples(), num_tasks=20)
    assert "Write 20 new tasks" in prompt
    assert "###\n1. Instruction: Name a river.\n1. Input:\n<noinput>\n1. Output:\nNile\n" in prompt
    assert "###\n2. Instruction: Add the numbers.\n2. Input:\n2 and 3\n2. Output:\n5\n" in prompt
    assert prompt.endswith("###\n4. Instruction:")
    assert stop_sequence(3, 20) == "24. Instruction:"


def test_examples_in_a_prompt_parse_back_as_records():
    prompt = render_prompt(load_template(), examples())
    body = prompt[prompt.index("###"):].rsplit("###", 1)[0]
    assert parse_completion(body, 1).records == examples()


def test_user_prompt_file_replaces_text_and_changes_hash(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("Invent {num_tasks} cooking tasks.\n")
    custom, shipped = load_template(path), load_template()
    assert render_prompt(custom, examples(), 5).startswith("Invent 5 cooking tasks.")
    assert custom.sha256 != shipped.sha256
