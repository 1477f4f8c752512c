"""opcore.d3viz: the graph page's data, and the page itself in a real headless browser."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest

import opcore
import opcore.tensor as T
from opcore.d3viz import d3viz, graph_data


def _mlp_step(profile=False):
    rng = np.random.default_rng(0)
    x, y = T.dmatrix("x"), T.dmatrix("y")
    W = opcore.shared(rng.normal(size=(4, 3)), name="W")
    b = opcore.shared(np.zeros(3), name="b")
    h = T.tanh(T.dot(x, W) + b)
    cost = ((h - y) ** 2).mean()
    gW, gb = T.grad(cost, [W, b])
    f = opcore.function([x, y], cost, updates=[(W, W - 0.1 * gW), (b, b - 0.1 * gb)],
                        profile=profile, name="mlp_step")
    f(rng.normal(size=(5, 4)), rng.normal(size=(5, 3)))
    return f


def test_graph_data_has_every_apply_node_input_and_output():
    f = _mlp_step()
    data = graph_data(f)
    fg = f.maker.fgraph
    applies = [n for n in data["nodes"] if n["kind"] == "apply"]
    assert len(applies) == len(fg.apply_nodes)
    assert sum(n["kind"] == "output" for n in data["nodes"]) == len(fg.outputs)
    ids = {n["id"] for n in data["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in data["edges"])
    # every Apply input is an edge into its node
    assert len([e for e in data["edges"] if e["target"].startswith("n")]) == sum(
        len(n.inputs) for n in fg.apply_nodes)
    assert all(n["backend"] and n["runs"] for n in applies)
    assert {n["label"] for n in data["nodes"] if n["kind"] == "input"} >= {"x", "y", "W", "b"}
    json.dumps(data)  # serialisable as is


def test_profiled_times_and_fused_scalar_graph():
    f = _mlp_step(profile=True)
    data = graph_data(f)
    assert data["profiled"]
    applies = [n for n in data["nodes"] if n["kind"] == "apply"]
    assert sum(n["time_share"] for n in applies) == pytest.approx(1.0)
    fused = [n for n in applies if n["children"]]
    assert fused, "the elementwise gradient should be fused into a Composite"
    for n in fused:
        ids = {c["id"] for c in n["children"]}
        assert all(e["source"] in ids and e["target"] in ids for e in n["child_edges"])


def test_d3viz_refuses_a_symbolic_variable(tmp_path):
    with pytest.raises(TypeError, match="compiled function"):
        d3viz(T.dvector("x") * 2, tmp_path / "g.html")


def test_page_is_self_contained(tmp_path):
    page = (tmp_path / "g.html")
    d3viz(_mlp_step(), page)
    html = page.read_text()
    assert "http://" not in html.split("<script>")[0] and "<script src" not in html
    assert "cytoscape" in html and "dagre" in html and "mlp_step" in html


def _browser():
    selenium = pytest.importorskip("selenium", reason="the browser test drives Chromium with "
                                   "Selenium (pip install selenium)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("needs Chromium and chromedriver (apt-get install chromium chromium-driver; "
                    "scripts/test.sh installs them when run as root)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
                "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    assert selenium
    return webdriver.Chrome(service=Service(driver), options=opts)


def test_page_in_a_headless_browser(tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    f = _mlp_step(profile=True)
    page = tmp_path / "graph.html"
    d3viz(f, page)
    browser = _browser()
    try:
        browser.get(page.as_uri())
        for _ in range(50):
            if browser.execute_script("return !!window.opcoreGraph"):
                break
            time.sleep(0.1)
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        n_apply = len(f.maker.fgraph.apply_nodes)
        assert browser.execute_script("return window.opcoreGraph.applyCount") == n_apply
        drawn = browser.execute_script(
            "return window.opcoreGraph.cy.nodes(\"[kind = 'apply']\").length")
        assert drawn == n_apply
        assert f"{n_apply} apply nodes" in browser.find_element(By.ID, "summary").text
        # hover the Dot node with the real mouse: the tooltip shows its op and output type
        nid, pos = browser.execute_script("""
            var n = window.opcoreGraph.cy.nodes("[kind = 'apply']").filter(
                function (n) { return n.data('ref').info[0].indexOf('op: Dot') === 0 ||
                                      n.data('ref').info[0].indexOf('op: Gemm') === 0 ||
                                      n.data('ref').info[0].indexOf('op: Gemv') === 0; })[0];
            return [n.id(), n.renderedPosition()];""")
        container = browser.find_element(By.ID, "cy")
        size = container.size
        ActionChains(browser).move_to_element_with_offset(
            container, int(pos["x"] - size["width"] / 2), int(pos["y"] - size["height"] / 2)
        ).perform()
        tip = browser.find_element(By.ID, "tip")
        for _ in range(20):
            if tip.is_displayed():
                break
            time.sleep(0.1)
        assert tip.is_displayed(), nid
        node = browser.execute_script(
            "var id = arguments[0]; return window.opcoreGraph.data.nodes.filter("
            "function (n) { return n.id === id; })[0]", nid)
        assert "TensorType(float64" in tip.text and tip.text.splitlines()[0] == node["info"][0]
        # clicking a fused node expands its scalar graph
        fused = browser.execute_script(
            "return window.opcoreGraph.data.nodes.filter(function (n) {"
            " return n.children && n.children.length; }).map(function (n) { return n.id; })")
        before = browser.execute_script("return window.opcoreGraph.cy.nodes().length")
        browser.execute_script("window.opcoreGraph.cy.getElementById(arguments[0])"
                               ".emit('tap')", fused[0])
        after = browser.execute_script("return window.opcoreGraph.cy.nodes().length")
        n_children = len(browser.execute_script(
            "var id = arguments[0]; return window.opcoreGraph.data.nodes.filter("
            "function (n) { return n.id === id; })[0].children", fused[0]))
        assert after == before + n_children
        # the screenshot used by the docs
        shot = tmp_path / "graph.png"
        browser.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        browser.quit()
