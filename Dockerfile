# syntax=docker/dockerfile:1
# CnnService: the HTTP service plus the `cnn` CLI, on the official .NET 10 images.
#   docker build -t cnnservice .                      (podman: see README "Container and Kubernetes")
#   docker build --build-arg RUN_TESTS=true -t cnnservice .   also runs the unit tests in the build
ARG RID=linux-x64

# ---- build: restore (cached until a project file changes), optional tests, publish ------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG RID
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
COPY *.sln Directory.Build.props Directory.Packages.props ./
COPY src/CnnService/CnnService.csproj src/CnnService/
COPY src/CnnService.Cli/CnnService.Cli.csproj src/CnnService.Cli/
COPY src/CnnService.Engine/CnnService.Engine.csproj src/CnnService.Engine/
COPY src/CnnService.Imaging/CnnService.Imaging.csproj src/CnnService.Imaging/
# Only linux-x64's native assets (SkiaSharp, SQLite): without a runtime identifier every platform's land in the image.
RUN dotnet restore src/CnnService/CnnService.csproj -r "$RID" \
 && dotnet restore src/CnnService.Cli/CnnService.Cli.csproj -r "$RID"

COPY . .
# Declared here, not above: a build argument invalidates the cache of every RUN after its ARG line.
ARG RUN_TESTS=false
RUN if [ "$RUN_TESTS" = "true" ]; then \
      dotnet test tests/CnnService.Engine.Tests/CnnService.Engine.Tests.csproj \
      && dotnet test tests/CnnService.Tests/CnnService.Tests.csproj; \
    fi
# No --no-restore: the tests restore without a runtime identifier, and publish must put linux-x64 back (a no-op otherwise).
RUN dotnet publish src/CnnService/CnnService.csproj -c Release -r "$RID" --self-contained false -o /out/service \
 && dotnet publish src/CnnService.Cli/CnnService.Cli.csproj -c Release -r "$RID" --self-contained false -o /out/cli

# ---- runtime ------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /out/service /app/
COPY --from=build /out/cli /app/cli/
# The shipped models (replace them by mounting a volume at /app/models), and the job records and checkpoints.
COPY --chown=app:app models /app/models
RUN mkdir -p /app/data && chown "$APP_UID:$APP_UID" /app/data \
 && printf '#!/bin/sh\nexec dotnet /app/cli/cnn.dll "$@"\n' > /usr/local/bin/cnn && chmod 755 /usr/local/bin/cnn
ENV ASPNETCORE_HTTP_PORTS=8080 \
    Models__Root=/app/models \
    Jobs__Root=/app/data \
    DOTNET_CLI_TELEMETRY_OPTOUT=1
VOLUME ["/app/data"]
EXPOSE 8080 8081
# 8080: REST (/v1, /v2, TensorFlow Serving); 8081: gRPC (inference.GRPCInferenceService, h2c; Grpc__Port, 0 turns it off)
USER $APP_UID
# The aspnet image has no curl: the service's own binary GETs /health/ready and exits 0/1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["dotnet", "/app/CnnService.dll", "--healthcheck"]
ENTRYPOINT ["dotnet", "/app/CnnService.dll"]
