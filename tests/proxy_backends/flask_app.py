"""A Flask app that keeps its state in Flask's signed cookie session and guards its forms with a
CSRF cookie (double submit, as Django does): run by tests/proxy_backends as
`python flask_app.py PORT`."""
import secrets
import sys

from flask import Flask, abort, redirect, request, session

app = Flask(__name__)
app.secret_key = "flask-test-secret"


def csrf_form(action, fields):
    token = request.cookies.get("csrftoken") or secrets.token_hex(16)
    html = (
        f'<!DOCTYPE html><html><head><title>t</title></head><body><form method="post" action="{action}">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">{fields}'
        '<button id="next">Next</button></form></body></html>'
    )
    response = app.make_response(html)
    response.set_cookie("csrftoken", token, samesite="Lax")
    return response


def check_csrf():
    cookie = request.cookies.get("csrftoken")
    if not cookie or cookie != request.form.get("csrfmiddlewaretoken"):
        abort(403, "CSRF verification failed")


@app.get("/")
def start():
    return csrf_form("/", '<input id="name" name="name">')


@app.post("/")
def save_name():
    check_csrf()
    session["name"] = request.form["name"]
    return redirect("/next", code=303)


@app.get("/next")
def greet():
    if "name" not in session:
        return "<h1>Session lost</h1>", 409
    return f"<!DOCTYPE html><h1>Hello, {session['name']}</h1>"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
