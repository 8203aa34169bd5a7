"""A small Flask app for the gunicorn rows: a JSON answer that shows which
worker thread served it."""
import threading

from flask import Flask, jsonify

app = Flask(__name__)
hits = threading.local()


@app.route("/")
def index():
    hits.n = getattr(hits, "n", 0) + 1
    return jsonify(ok=True, path="/", thread_local_works=hits.n >= 1)


@app.route("/echo/<word>")
def echo(word):
    return jsonify(word=word, length=len(word))
