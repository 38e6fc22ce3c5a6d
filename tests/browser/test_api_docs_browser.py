"""The API reference page in a real browser, under the dashboard's strict CSP."""


def test_api_reference_renders_every_operation_without_csp_violations(
    page, live_server, screenshot
):
    problems = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = page.goto(f"{live_server.url}/api/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    operations = page.locator(".opblock").count()
    assert operations == len(live_server_operations(live_server))
    assert page.locator(".info .title").inner_text().startswith("Experiment-group dashboard API")
    page.locator(
        ".opblock-summary-path",
        has_text="/api/v1/{username}/{project_name}/groups/{group_id}/stop/",
    ).first.click()
    page.wait_for_selector(".opblock.is-open .responses-table")
    codes = page.locator(".opblock.is-open td.response-col_status").all_inner_texts()
    assert [code.split()[0] for code in codes if code[:1].isdigit()] == [
        "200",
        "400",
        "401",
        "403",
        "404",
        "413",
    ]
    screenshot(page, "api-docs")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


def live_server_operations(live_server):
    import json
    import urllib.request

    with urllib.request.urlopen(f"{live_server.url}/api/v1/openapi.json", timeout=10) as answer:
        document = json.load(answer)
    return [(path, method) for path, item in document["paths"].items() for method in item]
