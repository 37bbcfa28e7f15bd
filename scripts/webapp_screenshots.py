"""Screenshots of the web app's main pages (docs/img/webapp-*.png), from a made-up demo registry.

    PYTHONPATH=. python scripts/webapp_screenshots.py      # needs chromium and chromium-driver

Builds a temp registry (an import, an edited child with a fine-tune recorded, a generated version
with its run folder) and a rating study with two raters, starts `selfinstruct serve`, and saves one
PNG per page.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.loopback_server import LoopbackServer  # noqa: E402
from tests.webapp.conftest import Server, submit  # noqa: E402

TASKS = [
    ("Give three tips for keeping a sourdough starter healthy.", "",
     "1. Feed it at the same time every day.\n2. Keep it somewhere warm but out of the sun.\n3. Discard half before each feeding."),
    ("Rewrite the sentence in the passive voice.", "The committee approved the new budget.",
     "The new budget was approved by the committee."),
    ("Classify the animal as a mammal, bird, reptile or fish.", "Platypus", "Mammal (a monotreme that lays eggs)."),
    ("Summarize the paragraph in one sentence.", "Tides are caused mainly by the Moon's gravity pulling on the oceans; "
     "the Sun adds a smaller pull, so tides are highest when the two line up.",
     "Tides come from the Moon's pull on the oceans, helped by the Sun's weaker pull."),
    ("Suggest a name for a bicycle repair shop.", "", "Spoke & Chain"),
    ("Explain why the sky looks blue during the day.", "",
     "Air molecules scatter short blue wavelengths of sunlight much more than red ones, so blue light reaches "
     "our eyes from every direction."),
    ("Translate the phrase into French.", "Where is the train station?", "Où est la gare ?"),
    ("List four prime numbers greater than 20.", "", "23, 29, 31, 37"),
    ("Write a haiku about a lighthouse.", "", "Sweeping the dark sea\na patient ring of white light\nships count it and turn"),
    ("Describe the water cycle to a ten-year-old.", "",
     "The Sun warms water until it rises as vapour, cools into clouds, falls as rain and flows back to the sea."),
    ("Convert the temperature from Celsius to Fahrenheit.", "25 °C", "77 °F"),
    ("Name the largest planet in the solar system.", "", "Jupiter"),
]


def demo_rows(n: int = 240) -> list[dict]:
    rows = []
    for k in range(n):
        instruction, inp, output = TASKS[k % len(TASKS)]
        rows.append({"instruction": instruction if k < len(TASKS) else f"{instruction} (variant {k // len(TASKS)})",
                     "input": inp, "output": output})
    if n > 13:
        rows[13]["output"] = "<script>alert('hi')</script> is shown as text, never run."
    return rows


def build(tmp: Path) -> None:
    import polars as pl

    import registry

    root = str(tmp / "registry")
    rows = demo_rows()
    registry.commit(pl.DataFrame(rows), name="tasks", root=root,
                    lineage={"operation": "import", "source": {"path": "/data/tasks.jsonl"}})
    edited = [dict(r) for r in rows]
    edited[1]["output"] = "The new budget was approved by the committee on Monday."
    edited[7]["output"] = "23, 29, 31 and 37 are all prime."
    del edited[30:34]
    edited.append({"instruction": "Name a colour between green and blue.", "input": "", "output": "Teal"})
    registry.commit(pl.DataFrame(edited), name="tasks", lineage={"operation": "derive", "rule": "fix outputs"},
                    parents=["tasks@1"], root=root)
    registry.record_use("tasks@2", {"kind": "finetune", "model": "tiny-llama", "output": "/runs/tiny-llama",
                                    "final_loss": 1.18}, root=root)
    registry.record_use("tasks@2", {"kind": "evaluation", "model_output": "/runs/tiny-llama", "set_name": "user-252",
                                    "n": 252, "against": "text_davinci_003", "judge": "a-judge-model",
                                    "judge_prompt_sha256": "33504ff028ae", "win_rate": 0.412, "ci_low": 0.361,
                                    "ci_high": 0.466, "lc_win_rate": 0.447, "lc_ci_low": 0.389, "lc_ci_high": 0.505},
                        root=root)
    run = tmp / "run"
    run.mkdir()
    kept = [dict(r, most_similar=TASKS[(i + 1) % len(TASKS)][0], rouge_l=0.31) for i, r in enumerate(demo_rows(12))]
    dropped = [{"instruction": "Give three tips for keeping a sourdough starter alive.", "drop_reason": "rouge_l",
                "rouge_l": 0.86, "collided_with": TASKS[0][0]},
               {"instruction": "Draw a map of the town.", "drop_reason": "keyword", "rouge_l": ""},
               {"instruction": "Write", "drop_reason": "too_short", "rouge_l": ""}]
    for name, data in (("kept.jsonl", kept), ("dropped.jsonl", dropped)):
        (run / name).write_text("".join(json.dumps(r) + "\n" for r in data))
    registry.commit(pl.DataFrame(demo_rows(12)), name="generated", root=root,
                    lineage={"operation": "generate", "generator": {"model": "gpt-4o-mini"}, "run_dir": str(run)})
    for system, style in (("tiny-llama-tasks@2", "{o}"), ("tiny-llama-tasks@1", "Sure! {o}")):
        (tmp / f"{system}.json").write_text(json.dumps(
            [{"instruction": i, "input": inp, "output": style.format(o=o), "generator": system, "dataset": "demo"}
             for i, inp, o in TASKS[:10]]))


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    out = REPO / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build(tmp)
        model = LoopbackServer(reply=lambda prompt: "Three rivers in Africa: the Nile, the Congo and the Niger. "
                                                    "The Nile is the longest, flowing north to the Mediterranean.")
        model.__enter__()
        server = Server(tmp, "--chat-endpoint", model.url, "--chat-model-name", "tiny-llama-tasks@2").start()
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--hide-scrollbars"):
            options.add_argument(arg)
        browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            def shot(path: str, name: str, height: int = 900):
                browser.set_window_size(1280, height)
                browser.get(server.url + path)
                browser.save_screenshot(str(out / f"webapp-{name}.png"))
                print(f"docs/img/webapp-{name}.png")

            shot("/v/tasks@2", "version")
            shot("/v/tasks@1/records?q=variant&has_input=yes", "records")
            shot("/v/tasks@1/records/13", "record-escaped", 600)
            shot("/diff?a=tasks@1&b=tasks@2&show=changed", "diff", 700)
            shot("/v/generated@1/drops", "drops", 500)
            browser.get(server.url + "/studies")
            browser.find_element(By.NAME, "name").send_keys("tasks@2 vs tasks@1 fine-tunes")
            browser.find_element(By.NAME, "answers_1").send_keys(str(tmp / "tiny-llama-tasks@2.json"))
            browser.find_element(By.NAME, "answers_2").send_keys(str(tmp / "tiny-llama-tasks@1.json"))
            submit(browser, browser.find_element(By.CSS_SELECTOR, "#new-study button"))
            link = browser.find_element(By.ID, "rater-link").get_attribute("value")
            for rater, keys in (("Ada", "1211t12112"), ("Grace", "12t1121211")):
                browser.get(link)
                browser.find_element(By.NAME, "name").send_keys(rater)
                submit(browser, browser.find_element(By.CSS_SELECTOR, "#join button"))
                for k in keys:
                    old = browser.find_element(By.TAG_NAME, "main")
                    ActionChains(browser).send_keys(k).perform()
                    WebDriverWait(browser, 10).until(expected_conditions.staleness_of(old))
            browser.get(link)
            browser.find_element(By.NAME, "name").send_keys("Linus")
            submit(browser, browser.find_element(By.CSS_SELECTOR, "#join button"))
            browser.set_window_size(1280, 800)
            browser.get(browser.current_url.rsplit("/", 1)[0] + "/2")
            browser.save_screenshot(str(out / "webapp-rate.png"))
            print("docs/img/webapp-rate.png")
            browser.get(server.url + "/studies/1")
            judge = tmp / "judge.json"
            judge.write_text(json.dumps([{"instruction": i, "generator_1": "tiny-llama-tasks@2",
                                          "generator_2": "tiny-llama-tasks@1", "preference": 1.0 + (k % 3 == 0)}
                                         for k, (i, _, _) in enumerate(TASKS[:10])]))
            browser.find_element(By.NAME, "annotations").send_keys(str(judge))
            submit(browser, browser.find_element(By.XPATH, "//button[text()='Attach']"))
            shot("/studies/1/results", "results", 820)
            browser.set_window_size(1280, 660)
            browser.get(server.url + "/chat")
            browser.find_element(By.NAME, "message").send_keys("Name three rivers in Africa.")
            browser.find_element(By.ID, "send").click()
            WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".turn.model pre.done"))
            browser.save_screenshot(str(out / "webapp-chat.png"))
            print("docs/img/webapp-chat.png")
        finally:
            browser.quit()
            server.kill()
            model.__exit__(None, None, None)


if __name__ == "__main__":
    main()
