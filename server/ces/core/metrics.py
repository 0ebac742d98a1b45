"""The survey metrics we know: their scales and how their answers are grouped.

Higher is always better on every scale (7 = strongly agree it was easy,
5 = very easy, 10 = would recommend), so "low score" means "bad experience"
whatever the metric.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    key: str
    min: int
    max: int
    # Answers counted as positive and negative for the headline score.
    positive: frozenset[int]
    negative: frozenset[int]
    # "share": headline = % positive; "net": headline = % positive - % negative;
    # "mean": headline = the mean answer (numeric ease ratings), with its t-interval.
    headline_kind: str
    headline_name: str
    # The default wording (English); the five built-in languages are in texts.py, and surveys
    # carry their own texts per locale.
    question: str
    low_label: str
    high_label: str
    point_labels: tuple[str, ...] = ()

    @property
    def points(self) -> range:
        return range(self.min, self.max + 1)

    def in_scale(self, value: object) -> bool:
        # bool is an int in Python; True is not a rating.
        return isinstance(value, int) and not isinstance(value, bool) and self.min <= value <= self.max


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            key="ces7", min=1, max=7,
            positive=frozenset({5, 6, 7}), negative=frozenset({1, 2, 3}),
            headline_kind="share", headline_name="ces",
            question="The company made it easy for me to handle my issue.",
            low_label="Strongly disagree", high_label="Strongly agree",
        ),
        Metric(
            key="ces5", min=1, max=5,
            positive=frozenset({4, 5}), negative=frozenset({1, 2}),
            headline_kind="net", headline_name="net_effort",
            question="How easy was it to handle your request?",
            low_label="Very difficult", high_label="Very easy",
            point_labels=("Very difficult", "Difficult", "Neutral", "Easy", "Very easy"),
        ),
        Metric(
            key="csat5", min=1, max=5,
            positive=frozenset({4, 5}), negative=frozenset({1, 2}),
            headline_kind="share", headline_name="csat",
            question="How satisfied are you with your experience?",
            low_label="Very unsatisfied", high_label="Very satisfied",
            point_labels=("Very unsatisfied", "Unsatisfied", "Neutral", "Satisfied", "Very satisfied"),
        ),
        Metric(
            key="nps", min=0, max=10,
            positive=frozenset({9, 10}), negative=frozenset(range(0, 7)),
            headline_kind="net", headline_name="nps",
            question="How likely are you to recommend us to a friend or colleague?",
            low_label="Not at all likely", high_label="Extremely likely",
        ),
        Metric(
            key="ves7", min=1, max=7,
            positive=frozenset({5, 6, 7}), negative=frozenset({1, 2, 3}),
            headline_kind="share", headline_name="ves",
            question="After this interaction I am more confident in my purchase.",
            low_label="Strongly disagree", high_label="Strongly agree",
        ),
        # The articles' numeric ease ratings ("how easy was it to buy, from 0 to 10", "on a scale
        # of 1 to 10"), scored by their mean. Positive / negative are the points above / below the
        # middle of the scale: they only give the at-risk list and the drivers a default threshold.
        Metric(
            key="ease0_10", min=0, max=10,
            positive=frozenset(range(6, 11)), negative=frozenset(range(0, 5)),
            headline_kind="mean", headline_name="mean_ease",
            question="On a scale from 0 to 10, how easy was it to get what you needed?",
            low_label="Very difficult", high_label="Very easy",
        ),
        Metric(
            key="ease1_10", min=1, max=10,
            positive=frozenset(range(6, 11)), negative=frozenset(range(1, 6)),
            headline_kind="mean", headline_name="mean_ease",
            question="On a scale from 1 to 10, how easy was it to get what you needed?",
            low_label="Very difficult", high_label="Very easy",
        ),
    )
}


def get_metric(key: str) -> Metric:
    """The metric named `key`; KeyError for an unknown one."""
    return METRICS[key]
