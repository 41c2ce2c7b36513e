namespace CnnService.Jobs;

/// <summary>
/// Hands each report straight to <paramref name="report"/> on the reporting thread. Not
/// <see cref="Progress{T}"/>, which posts every report to the thread pool: reports could then
/// arrive out of order, or after the job has finished.
/// </summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
