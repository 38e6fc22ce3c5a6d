"""The project aggregate: projects and members, access with the actor's role, code uploads."""
