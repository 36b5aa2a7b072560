"""Nested models are inlined; a model that refers to itself stops at {"type": "object"}."""

from typing import List, Optional

from cog import BaseModel, BasePredictor


class Box(BaseModel):
    x: int
    y: int


class Node(BaseModel):
    name: str
    children: List["Node"]
    parent: Optional["Node"] = None


class Detection(BaseModel):
    label: str
    box: Box
    boxes: list[Box]
    tree: Node


class Predictor(BasePredictor):
    def predict(self, image: str) -> Detection:
        raise NotImplementedError
