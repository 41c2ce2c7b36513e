namespace CnnService.Engine.Runtime;

/// <summary>
/// Workspaces for concurrent forward passes of one model: each call rents one for itself, so
/// threads never share scratch, and returns it for the next call. A lock around an array-backed
/// stack: renting allocates nothing once as many workspaces exist as calls run at once.
/// </summary>
internal sealed class WorkspacePool
{
    private readonly Stack<Workspace> _free = new();

    public Workspace Rent()
    {
        lock (_free)
        {
            if (_free.TryPop(out Workspace? ws)) return ws;
        }

        return new Workspace();
    }

    public void Return(Workspace ws)
    {
        lock (_free) _free.Push(ws);
    }
}
