"""The navigator's `lingnav/clear_objects` service (std_srvs/Trigger): forget every object S2 has
grounded (the mission's object memory), e.g. when the robot is carried to another home or the
furniture was moved. The next "go back to ..." then searches instead of driving to a stale place.
"""
from __future__ import annotations

from std_srvs.srv import Trigger

from lingnav_ros import topics


class ClearObjectsService:
    def __init__(self, node, objects, callback_group=None) -> None:
        self.objects = objects
        self.log = node.get_logger()
        self.service = node.create_service(Trigger, topics.CLEAR_OBJECTS, self.on_clear,
                                           callback_group=callback_group)

    def on_clear(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        count = self.objects.clear()
        response.success = True
        response.message = f"forgot {count} remembered object{'s' if count != 1 else ''}"
        self.log.info(f"clear_objects: {response.message}")
        return response
