import Foundation
import Hummingbird
import Logging
import Synchronization

/// The explorer's HTTP interface: one page and a small JSON and PNG API over a
/// `LatentSpaceService`. Nothing is read from the file system on a request: the page is embedded
/// (`ExplorerPage`) and every picture is decoded from the one run the server was started with.
///
///     GET  /                      the page (HTML, with its script and style inline)
///     GET  /api/model             the run: kind, latent size, image shape, dimensions by KL,
///                                 class names, the condition, the rendering options, the scatter points
///     GET  /api/decode?z=…[&label=K][&transform=on|off][&size=N]
///                                 the picture decoded from z (PNG at the image's size)
///     GET  /api/draw?seed=N       a latent vector from the run's sampler (the prior, or one fitted
///                                 to the training set's codes), drawn with seed N (JSON)
///     GET  /api/test?index=N      test image N's latent mean and label (JSON)
///     GET  /api/test-image?index=N
///                                 test image N itself (PNG)
///     POST /api/encode[?label=K]  a PNG or JPEG picture (the body, at most 4 MiB) encoded to z (JSON)
///
/// A parameter that does not fit gets status 400 and a JSON body {"error": {"message": …}}; more
/// than `maximumConcurrentRequests` requests in progress get 503 at once.
public enum ExplorerRoutes {
    /// Requests handled at once before new ones are refused with 503.
    public static let maximumConcurrentRequests = 64

    /// The router serving `service`, refusing requests beyond `concurrencyLimit` in progress.
    public static func router(_ service: LatentSpaceService, concurrencyLimit: Int = maximumConcurrentRequests) -> Router<BasicRequestContext> {
        let router = pageRouter(page: ExplorerPage.html, overview: service.overview, concurrencyLimit: concurrencyLimit)
        router.get("/api/decode") { request, _ in
            let query = request.uri.queryParameters
            let png = try answer {
                let latent = try service.latent(query.get("z"))
                let label = try service.label(query.get("label"))
                let rendering = try service.rendering(transform: query.get("transform"), size: query.get("size"))
                return service.decodePNG(latent, label: label, transformOn: rendering.transformOn, size: rendering.size)
            }
            return data(png, type: "image/png")
        }
        router.get("/api/draw") { request, _ in
            let seed = try answer { try service.seed(request.uri.queryParameters.get("seed")) }
            return data(service.draw(seed: seed), type: "application/json")
        }
        addTestImageRoutes(to: router, index: service.testIndex, code: service.testCode, picture: service.testImagePNG)
        router.post("/api/encode") { request, _ in
            try refuseDeclaredOversize(request)
            let label = try answer { try service.label(request.uri.queryParameters.get("label")) }
            let body = try await uploadedBody(request)
            let json = try answer { try service.encodeUpload(body, label: label) }
            return data(json, type: "application/json")
        }
        return router
    }

    /// The router serving a run whose latent is a grid of codes (`CodeGridService`):
    ///
    ///     GET  /                      the code-grid page (HTML, script and style inline)
    ///     GET  /api/model             the run: kind, image shape, grid, codebook size, class names, its prior
    ///     GET  /api/decode-codes?codes=i,j,…
    ///                                 the picture decoded from h · w code indices, row by row (PNG)
    ///     GET  /api/draw?seed=N[&label=K]
    ///                                 a grid drawn from the run's code prior (JSON {"codes"})
    ///     GET  /api/test?index=N      test image N's code grid and label (JSON)
    ///     GET  /api/test-image?index=N
    ///                                 test image N itself (PNG)
    ///     POST /api/encode            a PNG or JPEG picture (the body, at most 4 MiB) to its code grid (JSON)
    ///
    /// `/api/decode` (a continuous latent vector) is answered 400, naming `/api/decode-codes`.
    public static func router(_ service: CodeGridService, concurrencyLimit: Int = maximumConcurrentRequests) -> Router<BasicRequestContext> {
        let router = pageRouter(page: CodeGridPage.html, overview: service.overview, concurrencyLimit: concurrencyLimit)
        router.get("/api/decode-codes") { request, _ in
            let codes = try answer { try service.codes(request.uri.queryParameters.get("codes")) }
            return data(service.decodePNG(codes), type: "image/png")
        }
        router.get("/api/decode") { _, _ -> Response in
            throw HTTPError(.badRequest, message: "z: this run's latent is a grid of codes, not a vector: decode one with /api/decode-codes?codes=…")
        }
        router.get("/api/draw") { request, _ in
            let query = request.uri.queryParameters
            let json = try answer {
                let seed = try LatentSpaceService.seed(query.get("seed"))
                return try service.draw(seed: seed, label: try service.priorLabel(query.get("label")))
            }
            return data(json, type: "application/json")
        }
        addTestImageRoutes(to: router, index: service.testIndex, code: service.testCodes, picture: service.testImagePNG)
        router.post("/api/encode") { request, _ in
            try refuseDeclaredOversize(request)
            let body = try await uploadedBody(request)
            let json = try answer { try service.encodeUpload(body) }
            return data(json, type: "application/json")
        }
        return router
    }

    /// A router refusing requests beyond `concurrencyLimit` in progress, serving `page` at `/` and
    /// `overview` (JSON) at `/api/model`.
    static func pageRouter(page: String, overview: Data, concurrencyLimit: Int) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ConcurrencyLimit(limit: concurrencyLimit))
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        router.get("/api/model") { _, _ in data(overview, type: "application/json") }
        return router
    }

    /// `/api/test?index=N` (test image N's code as JSON, from `code`) and `/api/test-image?index=N`
    /// (its PNG, from `picture`), the index checked by `index`.
    static func addTestImageRoutes(to router: Router<BasicRequestContext>, index: @escaping @Sendable (String?) throws(ExplorerRequestError) -> Int,
                                   code: @escaping @Sendable (Int) -> Data, picture: @escaping @Sendable (Int) -> Data) {
        router.get("/api/test") { request, _ in
            data(code(try answer { try index(request.uri.queryParameters.get("index")) }), type: "application/json")
        }
        router.get("/api/test-image") { request, _ in
            data(picture(try answer { try index(request.uri.queryParameters.get("index")) }), type: "image/png")
        }
    }

    /// Refuses a declared length over the upload limit before anything else, and before any of the body is read.
    static func refuseDeclaredOversize(_ request: Request) throws {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > LatentSpaceService.maximumUploadBytes {
            throw HTTPError(.contentTooLarge, message: "body: \(declared) bytes declared; at most \(LatentSpaceService.maximumUploadBytes) are accepted")
        }
    }

    /// The request's body, at most the upload limit (413 beyond it).
    static func uploadedBody(_ request: Request) async throws -> Data {
        do { return Data(buffer: try await request.body.collect(upTo: LatentSpaceService.maximumUploadBytes)) } catch {
            throw HTTPError(.contentTooLarge, message: "body: at most \(LatentSpaceService.maximumUploadBytes) bytes are accepted")
        }
    }

    /// The server for `service` on `host`:`port` (0: any free port): HTTP/1.1, idle connections
    /// closed after `idleSeconds`, `onRunning` called with the address once it listens. It logs
    /// warnings and errors only.
    public static func application(_ service: LatentSpaceService, host: String, port: Int, idleSeconds: Int64 = 30,
                                   onRunning: @escaping @Sendable (_ host: String, _ port: Int) -> Void) -> some ApplicationProtocol {
        application(.latentSpace(service), host: host, port: port, idleSeconds: idleSeconds, onRunning: onRunning)
    }

    /// What an explorer serves: a continuous latent space, or a grid of codes.
    public enum Subject: Sendable {
        /// A run with a continuous latent (`LatentSpaceService`).
        case latentSpace(LatentSpaceService)
        /// A run whose latent is a grid of codes (`CodeGridService`).
        case codeGrid(CodeGridService)
    }

    /// The server for `subject`, as above.
    public static func application(_ subject: Subject, host: String, port: Int, idleSeconds: Int64 = 30,
                                   onRunning: @escaping @Sendable (_ host: String, _ port: Int) -> Void) -> some ApplicationProtocol {
        let router = switch subject {
        case let .latentSpace(service): router(service)
        case let .codeGrid(service): router(service)
        }
        var logger = Logger(label: "vae-explore")
        logger.logLevel = .warning
        return Application(router: router, server: .http1(configuration: .init(idleTimeout: .seconds(idleSeconds))),
                    configuration: .init(address: .hostname(host, port: port), serverName: "vae"),
                    onServerRunning: { channel in
                        let address = channel.localAddress
                        onRunning(address?.ipAddress ?? host, address?.port ?? port)
                    },
                    logger: logger)
    }

    /// `body`'s result, or its `ExplorerRequestError` as a 400 with the message.
    static func answer<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ExplorerRequestError { throw HTTPError(.badRequest, message: error.description) }
    }

    static func data(_ bytes: Data, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Refuses a request with 503 while `limit` others are in progress, so a flood cannot queue
/// without bound.
struct ConcurrencyLimit<Context: RequestContext>: RouterMiddleware {
    /// The count of requests in progress, shared by every copy of the middleware.
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    let limit: Int
    let inProgress = Counter()

    init(limit: Int) { self.limit = limit }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let now = inProgress.value.add(1, ordering: .relaxed).newValue
        defer { inProgress.value.subtract(1, ordering: .relaxed) }
        guard now <= limit else { throw HTTPError(.serviceUnavailable, message: "busy: more than \(limit) requests in progress; try again") }
        return try await next(request, context)
    }
}
