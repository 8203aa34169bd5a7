import threading

from django.http import JsonResponse

from .models import Question


def index(request):
    return JsonResponse({"questions": [q.text for q in Question.objects.order_by("id")],
                         "thread": threading.current_thread().name != "MainThread"})


def vote(request, pk):
    q = Question.objects.get(pk=pk)
    q.votes += 1
    q.save()
    return JsonResponse({"votes": q.votes})
