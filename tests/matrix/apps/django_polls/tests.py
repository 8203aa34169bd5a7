import concurrent.futures
import json
import urllib.request

from django.test import Client, LiveServerTestCase, TestCase

from .models import Question


class QuestionModelTests(TestCase):
    def test_create_and_count(self):
        Question.objects.create(text="why")
        Question.objects.create(text="how")
        self.assertEqual(Question.objects.count(), 2)

    def test_index_view(self):
        Question.objects.create(text="what")
        r = Client().get("/polls/")
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["questions"], ["what"])

    def test_vote_view(self):
        q = Question.objects.create(text="who")
        r = Client().post(f"/polls/{q.pk}/vote")
        self.assertEqual(r.json(), {"votes": 1})


class LiveServerTests(LiveServerTestCase):
    def test_concurrent_clients_against_the_threaded_live_server(self):
        Question.objects.create(text="live")

        def fetch(_):
            with urllib.request.urlopen(self.live_server_url + "/polls/", timeout=10) as r:
                return r.status, json.loads(r.read())["questions"]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(fetch, range(12)))
        self.assertEqual(results, [(200, ["live"])] * 12)
