"""What the organization API answers."""

from ninja import Schema


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
