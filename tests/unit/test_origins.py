from ces.core import origins


def test_exact_origins_match_case_insensitively_and_with_the_default_port():
    allowed = ["https://Shop.example"]
    assert origins.allowed("https://shop.example", allowed)
    assert origins.allowed("https://shop.example:443", allowed)
    assert not origins.allowed("http://shop.example", allowed)
    assert not origins.allowed("https://shop.example:8443", allowed)
    assert not origins.allowed("https://evil.example", allowed)
    assert not origins.allowed("https://shop.example.evil.example", allowed)


def test_a_wildcard_matches_subdomains_only():
    allowed = ["https://*.shop.example"]
    assert origins.allowed("https://www.shop.example", allowed)
    assert origins.allowed("https://a.b.shop.example", allowed)
    assert not origins.allowed("https://shop.example", allowed)
    assert not origins.allowed("https://evilshop.example", allowed)
    assert not origins.allowed("http://www.shop.example", allowed)


def test_any_origin_but_never_null_and_no_origin_is_not_a_browser():
    assert origins.allowed("https://anything.example", ["*"])
    assert not origins.allowed("null", ["*"])
    assert not origins.allowed("https://shop.example", [])
    assert origins.allowed(None, [])


def test_entries_are_validated():
    for good in ["*", "https://shop.example", "http://127.0.0.1:8000", "https://*.shop.example", "http://[::1]:80"]:
        assert origins.entry_problem(good) is None, good
    for bad in ["shop.example", "https://shop.example/path", "ftp://shop.example", "https://", 7,
                "https://shop.example:99999", "https://user@shop.example", "https://sh op.example", "null", ""]:
        assert origins.entry_problem(bad), bad
    assert origins.list_problem("https://shop.example")
    assert origins.list_problem(["https://a.example", "nope"])
    assert origins.list_problem(["https://a.example"]) is None
    assert origins.clean(["https://A.example/", "https://a.example:443", "*"]) == ["https://a.example", "*"]
