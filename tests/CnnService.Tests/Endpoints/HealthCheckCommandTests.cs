using System.Net;
using System.Net.Sockets;
using CnnService.Hosting;
using CnnService.Tests.Support;

namespace CnnService.Tests.Endpoints;

/// <summary><c>--healthcheck</c>, the container's HEALTHCHECK, against a real Kestrel and a closed port.</summary>
public sealed class HealthCheckCommandTests
{
    [Fact]
    public async Task A_ready_service_is_healthy()
    {
        await using var factory = new ServiceFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        HttpClient client = await factory.ReadyClientAsync();

        Assert.Equal(0, await HealthCheckCommand.RunAsync(new Uri(client.BaseAddress!, "/health/ready").ToString(), TimeSpan.FromMinutes(1)));
        Assert.Equal(1, await HealthCheckCommand.RunAsync(new Uri(client.BaseAddress!, "/no-such-path").ToString(), TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task A_closed_port_is_unhealthy()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        Assert.Equal(1, await HealthCheckCommand.RunAsync($"http://127.0.0.1:{port}/health/ready", TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void Only_a_first_argument_of_healthcheck_runs_it()
    {
        Assert.False(HealthCheckCommand.TryRun([], out _));
        Assert.False(HealthCheckCommand.TryRun(["--urls", "http://127.0.0.1:1"], out _));
    }

    [Fact]
    public void The_default_url_uses_the_first_http_port()
    {
        Assert.Equal("http://127.0.0.1:9090/health/ready", HealthCheckCommand.DefaultUrl("9090;9091"));
        Assert.Equal("http://127.0.0.1:8080/health/ready", HealthCheckCommand.DefaultUrl(null));
        Assert.Equal("http://127.0.0.1:8080/health/ready", HealthCheckCommand.DefaultUrl(""));
    }
}
