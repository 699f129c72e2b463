from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/classes/<uuid:class_id>/gradebook", consumers.ClassGradebookConsumer.as_asgi()),
    path("ws/my/scores", consumers.MyScoresConsumer.as_asgi()),
]
