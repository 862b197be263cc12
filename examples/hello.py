def main(name: str = "World") -> dict:
    return {"message": f"Hello {name}!"}
