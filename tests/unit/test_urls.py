"""URL fields (core/urls.py): a usable http(s) URL, or a sentence saying what is wrong; never an
exception (urlsplit raises on some inputs and silently drops tabs and newlines on others)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ces.core.urls import http_url_problem


@pytest.mark.parametrize("url", ["https://example.com/hook", "http://127.0.0.1:8080/x?y=1#f", "http://[::1]:9000/h",
                                 "https://bücher.example/hook", "http://hooks.internal_net.local/", "https://a.b/",
                                 "https://user:pw@example.com/x", "http://example.com."])
def test_good_urls(url: str) -> None:
    assert http_url_problem(url) is None


@pytest.mark.parametrize("url,words", [
    ("http://[::1", "not a valid url"), ("http://", "host"), ("javascript:alert(1)", "http"),
    ("ftp://example.com/", "http"), ("//example.com/", "http"), ("example.com/hook", "http"),
    ("https://exa mple.com/", "spaces"), ("https://exa\tmple.com/", "control"), ("http://e.com/\n", "control"),
    ("http://example.com:99999/", "port"), ("http://example.com:port/", "port"), ("http://example.com:0/", "port"),
    ("http://[::1]x/", "ipv6"), ("http://[zz::1]/", "not a valid url"), ("http://a..b/", "domain"),
    ("http://-a.com/", "domain"), ("https://" + "a" * 64 + ".com/", "domain"), ("http://user:pw@", "host"),
    ("https://e.com/" + "x" * 2100, "longer"), ("http://\u2028.com/", "spaces"), ("http://ex\x00.com/", "control"),
])
def test_bad_urls_say_why(url: str, words: str) -> None:
    problem = http_url_problem(url)
    assert problem is not None and words in problem.lower(), problem


@given(st.text(max_size=40) | st.builds(lambda s: "http://" + s, st.text(max_size=30)))
def test_never_raises(url: str) -> None:
    problem = http_url_problem(url)
    assert problem is None or isinstance(problem, str)
