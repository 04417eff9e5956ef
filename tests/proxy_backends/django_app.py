"""A Django app as Django's users write one, served by gunicorn as they run it: database (or
signed-cookie) sessions, the CSRF middleware, `{% csrf_token %}` forms, a three-step form with
redirect-after-POST, a `fetch()` POST that sends the CSRF token in `X-CSRFToken`, and logout.
Run by tests/proxy_backends as `python django_app.py PORT SCRATCH_DIR [db|signed_cookies]`.

Every request the app receives is written to SCRATCH_DIR/requests.jsonl (its path and query,
its headers, its body), so the tests can check that no token ever reached the app."""
import json
import os
import sys
import time

import django
from django.conf import settings

PORT, SCRATCH = int(sys.argv[1]), sys.argv[2]
ENGINE = sys.argv[3] if len(sys.argv) > 3 else "db"

settings.configure(
    DEBUG=False,
    SECRET_KEY="django-test-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.sessions"],
    MIDDLEWARE=[
        __name__ + ".record",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
    ],
    SESSION_ENGINE="django.contrib.sessions.backends." + ENGINE,
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(SCRATCH, "db.sqlite3"),
            # Several gunicorn threads write sessions at once.
            "OPTIONS": {"timeout": 20},
        }
    },
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
    USE_TZ=True,
)
django.setup()

from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.shortcuts import redirect  # noqa: E402
from django.template import engines  # noqa: E402
from django.urls import path  # noqa: E402

LOG = os.path.join(SCRATCH, "requests.jsonl")


def record(get_response):
    """Writes down what the app received, before Django reads any of it."""

    def middleware(request):
        entry = {
            "path": request.get_full_path(),
            "headers": {k: v for k, v in request.META.items() if k.startswith("HTTP_")},
            "body": request.body.decode("latin-1"),
        }
        with open(LOG, "a") as log:
            log.write(json.dumps(entry) + "\n")
        return get_response(request)

    return middleware


def page(request, title, body, status=200):
    template = engines["django"].from_string(
        "<!DOCTYPE html><html><head><title>{{ title }}</title></head><body>"
        "<h1>{{ title }}</h1>" + body + "</body></html>"
    )
    return HttpResponse(template.render({"title": title, **request.session}, request), status=status)


def step1(request):
    if request.method == "POST":
        request.session["name"] = request.POST["name"]
        return redirect("/step2")
    return page(
        request,
        "Step 1",
        '<form method="post" action="/">{% csrf_token %}'
        '<input id="name" name="name"><button id="next">Next</button></form>',
    )


def step2(request):
    if "name" not in request.session:
        return page(request, "Session lost", "", status=409)
    if request.method == "POST":
        request.session["colour"] = request.POST["colour"]
        return redirect("/done")
    return page(
        request,
        "Hello, " + request.session["name"],
        '<form method="post">{% csrf_token %}'
        '<input id="colour" name="colour"><button id="next">Next</button></form>',
    )


def done(request):
    return page(
        request,
        "Thank you",
        '<p id="answers">{{ name }} likes {{ colour }}</p><p><a id="scripts" href="/scripts">scripts</a></p>'
        '<form method="post" action="/logout">{% csrf_token %}<button id="logout">Log out</button></form>',
    )


def logout(request):
    if request.method != "POST":
        return HttpResponse(status=405)
    request.session.flush()
    return redirect("/")


def whoami(request):
    return JsonResponse({"name": request.session.get("name")})


def slow(request):
    """A slow page that reads the session (and so may not write it back)."""
    time.sleep(int(request.GET.get("ms", "1000")) / 1000)
    return page(request, "Slow, " + str(request.session.get("name")), "")


def set_cookie(request):
    response = JsonResponse({})
    response.set_cookie("c_" + request.GET["name"], "1", samesite="Lax")
    return response


def cookies(request):
    return JsonResponse(sorted(request.COOKIES), safe=False)


def scripts(request):
    # The token for fetch() comes from the page, as Django's docs say when the CSRF cookie
    # cannot be read (here the browser has no cookie at all).
    return page(
        request,
        "Scripts",
        "{% csrf_token %}<button id=\"count\" onclick=\"fetch('/api/count', {method: 'POST', "
        "headers: {'X-CSRFToken': document.querySelector('[name=csrfmiddlewaretoken]').value}})"
        ".then(r => r.ok ? r.json().then(j => 'n' + j.count) : r.status)"
        ".then(t => document.getElementById('out').textContent += t + ' ')\">count</button>"
        '<p id="out"></p>',
    )


def count(request):
    if request.method != "POST":
        return HttpResponse(status=405)
    request.session["count"] = request.session.get("count", 0) + 1
    return JsonResponse({"count": request.session["count"]})


urlpatterns = [
    path("", step1),
    path("step2", step2),
    path("done", done),
    path("logout", logout),
    path("whoami", whoami),
    path("slow", slow),
    path("set", set_cookie),
    path("cookies", cookies),
    path("scripts", scripts),
    path("api/count", count),
]

if __name__ == "__main__":
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from gunicorn.app.base import BaseApplication

    call_command("migrate", verbosity=0)

    class Gunicorn(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"127.0.0.1:{PORT}")
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("workers", 1)
            self.cfg.set("threads", 16)
            self.cfg.set("accesslog", os.path.join(SCRATCH, "access.log"))
            self.cfg.set("loglevel", "warning")
            # gunicorn 24+ opens a control socket at one path per user: tests run several.
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self):
            return get_wsgi_application()

    Gunicorn().run()
