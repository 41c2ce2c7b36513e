namespace CnnService.Engine.Tests.Support;

/// <summary>
/// Bytes a piece of work allocates on the calling thread. <see cref="GC.GetAllocatedBytesForCurrentThread"/>
/// now and then counts part of an allocation quantum that was never used (the runtime's own test of it
/// fails for that about once a week, dotnet/runtime#63487), most often when a GC triggered by another
/// test's thread lands inside the window. So the work runs in a few windows and the fewest bytes
/// counted is the answer: an allocation the work really makes shows in every window.
/// </summary>
public static class Allocations
{
    public static long Fewest(int windows, Action work)
    {
        long fewest = long.MaxValue;
        for (int i = 0; i < windows && fewest > 0; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            work();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return fewest;
    }
}
