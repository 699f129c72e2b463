from django.urls import path, re_path

from . import consumers

websocket_urlpatterns = [
    path("ws/classes/<uuid:class_id>/gradebook", consumers.ClassGradebookConsumer.as_asgi()),
    path("ws/my/scores", consumers.MyScoresConsumer.as_asgi()),
    # Last: every other path is refused, not an error in the router.
    re_path(r"", consumers.NoSuchSocket.as_asgi()),
]
