"""The learner behind the category suggestions: text in, the most likely labels out.

Pure Python over scikit-learn, no Django: the same learner is trained on the platform's closed
cases (`suggestions.services`) and on any labelled CSV (`manage.py suggester`).

How it works, and why (docs/suggestions.md has the measurements):
- Features are TF-IDF weights of character 1- to 3-grams, sublinear in the counts. Chinese has no
  spaces; characters and their short runs carry the words without a segmenter, so there is no
  dictionary to ship or keep up to date, nothing is downloaded, and a new place name or slang
  word still shares its characters with the ones seen. On the 8,613 labelled messages a word
  segmenter (jieba) added nothing over the character n-grams and took 20 s a run.
- The classifier is a linear support vector machine (one against the rest), the best of the
  linear models tried on that corpus; its decision values are turned into scores in [0, 1] that
  sum to 1 by a softmax, so "how sure" reads the same way for every label.
- What is kept: the vocabulary and IDF weights, and one float32 weight row per label. The
  vectoriser's list of dropped n-grams (`stop_words_`, large and unused for prediction) is not.
"""

import gzip
import pickle

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

# The first part of a long text is what is used: a call's description rarely needs more, and a
# 20,000-character paste costs no more than a normal call.
MAX_CHARS = 2000
# The most n-grams kept: bounds the model's memory (about 60 labels x 300,000 x 4 bytes = 72 MB
# of weights at most) whatever the size of the history it is trained on.
MAX_FEATURES = 300_000
# Sharpness of the softmax over the decision values: the SVM's values are small (about -1..1).
TEMPERATURE = 4.0
FORMAT = 1


def text_of(subject: str = "", description: str = "") -> str:
    """The text a case or a call is judged by: its subject and its description, truncated."""
    subject, description = (subject or "").strip(), (description or "").strip()
    text = (
        f"{subject}\n{description}"
        if subject and description and not description.startswith(subject)
        else (description or subject)
    )
    return text[:MAX_CHARS]


class NotEnoughData(ValueError):
    """Fewer than two labels, or no text at all: nothing to learn from."""


class Learner:
    def __init__(self, *, c=0.5, max_features=MAX_FEATURES):
        self.c = c
        self.max_features = max_features
        self.vectorizer = None
        self.weights = None  # float32, labels x features
        self.bias = None
        self.labels: list[str] = []
        self.trained_on = 0

    def _vectorizer(self):
        return TfidfVectorizer(
            analyzer="char",
            ngram_range=(1, 3),
            sublinear_tf=True,
            min_df=2,
            max_features=self.max_features,
            dtype=np.float32,
        )

    def fit(self, texts, labels) -> "Learner":
        texts = [(text or "")[:MAX_CHARS] for text in texts]
        labels = [str(label) for label in labels]
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        if len(set(labels)) < 2 or not any(text.strip() for text in texts):
            raise NotEnoughData("at least two labels and some text are needed")
        vectorizer = self._vectorizer()
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError:  # every n-gram seen once only (a tiny corpus): keep them all
            vectorizer.set_params(min_df=1)
            matrix = vectorizer.fit_transform(texts)
        vectorizer.stop_words_ = None  # documented as safe to drop: only introspection uses it
        # tol 1e-3 instead of 1e-4: the same accuracy on the labelled corpus, the fit 25 % faster.
        # The dual solver always: scikit-learn's "auto" picks the primal one when there are more
        # texts than n-grams (a large history of short texts), which fitted 90,000 generated cases
        # in 426 s against the dual's 48 s, to the same training accuracy.
        model = LinearSVC(C=self.c, tol=1e-3, dual=True).fit(matrix, labels)
        weights, bias = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # sklearn keeps one row for two labels: make it two
            weights, bias = np.vstack([-weights, weights]), np.concatenate([-bias, bias])
        self.vectorizer = vectorizer
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.labels = [str(label) for label in model.classes_]
        self.trained_on = len(texts)
        return self

    def scores(self, texts) -> np.ndarray:
        """One row per text, one column per label (in `self.labels`' order), each row summing to 1."""
        matrix = self.vectorizer.transform([(text or "")[:MAX_CHARS] for text in texts])
        decision = np.asarray(matrix @ self.weights.T) + self.bias
        decision = TEMPERATURE * (decision - decision.max(axis=1, keepdims=True))
        exp = np.exp(decision)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, texts, k=3) -> list[list[tuple[str, float]]]:
        """For each text, the k most likely labels with their scores, most likely first."""
        texts = list(texts)
        if not texts:
            return []
        scores = self.scores(texts)
        k = min(k, len(self.labels))
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return [[(self.labels[j], float(row[j])) for j in order] for row, order in zip(scores, best, strict=True)]

    def dumps(self) -> bytes:
        state = {
            "format": FORMAT,
            "c": self.c,
            "max_features": self.max_features,
            "vectorizer": self.vectorizer,
            "weights": self.weights,
            "bias": self.bias,
            "labels": self.labels,
            "trained_on": self.trained_on,
        }
        return gzip.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), compresslevel=3)

    @classmethod
    def loads(cls, data: bytes) -> "Learner":
        # Only models this platform wrote are loaded: from its own database or a path an
        # operator gave the command. A pickle is code; never load one from elsewhere.
        state = pickle.loads(gzip.decompress(data))
        if state.get("format") != FORMAT:
            raise ValueError("a model written by another version of the learner; retrain it")
        learner = cls(c=state["c"], max_features=state["max_features"])
        learner.vectorizer = state["vectorizer"]
        learner.weights, learner.bias = state["weights"], state["bias"]
        learner.labels, learner.trained_on = state["labels"], state["trained_on"]
        return learner


def top_k_accuracy(learner: Learner, texts, labels, k=3) -> tuple[float, float]:
    """Top-1 and top-k accuracy of a fitted learner on labelled texts."""
    predicted = learner.predict(texts, k=k)
    labels = [str(label) for label in labels]
    first = sum(row[0][0] == label for row, label in zip(predicted, labels, strict=True))
    within = sum(label in {name for name, _ in row} for row, label in zip(predicted, labels, strict=True))
    return first / len(labels), within / len(labels)
