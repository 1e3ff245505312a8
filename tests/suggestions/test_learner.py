"""The learner on its own: trained on a small fixed corpus, it ranks the right label first on
texts it has not seen, and a model written and read back answers the same."""

import pytest

from suggestions.learner import MAX_CHARS, Learner, NotEnoughData, text_of, top_k_accuracy
from tests.suggestions.corpus import UNSEEN, rows


@pytest.fixture(scope="module")
def learner():
    texts, labels = zip(*rows(), strict=True)
    return Learner().fit(texts, labels)


def test_it_ranks_the_right_label_first_on_texts_it_has_not_seen(learner):
    predicted = learner.predict([text for _, text in UNSEEN], k=3)
    assert [best[0][0] for best in predicted] == [label for label, _ in UNSEEN]
    for best in predicted:
        scores = [score for _, score in best]
        assert scores == sorted(scores, reverse=True)
        assert 0 < sum(scores) <= 1.000001 and scores[0] > 0.5
    assert top_k_accuracy(learner, [t for _, t in UNSEEN], [label for label, _ in UNSEEN]) == (1.0, 1.0)


def test_a_model_written_and_read_back_answers_the_same(learner):
    again = Learner.loads(learner.dumps())
    texts = [text for _, text in UNSEEN]
    assert again.predict(texts) == learner.predict(texts)
    assert again.labels == ["garbage", "heating", "road"] and again.trained_on == 30


def test_two_labels_give_two_rows_of_scores():
    learner = Learner().fit(["暖气不热", "暖气太冷", "垃圾没清", "垃圾很臭"], ["heat", "heat", "trash", "trash"])
    best = learner.predict(["暖气温度低"], k=3)[0]
    assert [label for label, _ in best] == ["heat", "trash"]


def test_a_long_text_is_cut_and_one_label_is_refused(learner):
    long = "暖气不热" * 10_000
    assert learner.predict([long])[0][0][0] == "heating"
    assert len(text_of("主题", long)) == MAX_CHARS
    assert text_of("暖气不热", "暖气不热，家里很冷") == "暖气不热，家里很冷"
    with pytest.raises(NotEnoughData):
        Learner().fit(["一", "二"], ["same", "same"])
