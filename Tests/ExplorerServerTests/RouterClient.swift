import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded

/// A response as the tests read it.
struct RouterResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer
}

/// Sends requests straight to a router's responder, in-process and without a socket, as
/// Hummingbird's own router test framework does (that framework's module also pulls in an HTTP
/// client and TLS, minutes of build for CI, so this is the few lines of it the tests need).
struct RouterClient: Sendable {
    let respond: @Sendable (Request, BasicRequestContext) async throws -> Response

    init(_ router: Router<BasicRequestContext>) {
        let responder = router.buildResponder()
        respond = { try await responder.respond(to: $0, context: $1) }
    }

    /// The answer to `method uri` with `body`, handed to `check`.
    @discardableResult
    func execute<Result>(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
                         _ check: (RouterResponse) async throws -> Result = { $0 }) async throws -> Result {
        var headers = headers
        if let body { headers[.contentLength] = String(body.readableBytes) }
        let request = Request(head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: uri, headerFields: headers),
                              body: RequestBody(buffer: body ?? ByteBuffer()))
        let context = BasicRequestContext(source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: Logger(label: "test")))
        let response: Response
        do { response = try await respond(request, context) } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        let collector = Collector()
        try await response.body.write(collector)
        return try await check(RouterResponse(status: response.status, headers: response.headers, body: collector.box.buffer))
    }

    /// Gathers a response body.
    struct Collector: ResponseBodyWriter {
        final class Box: @unchecked Sendable { var buffer = ByteBuffer() }
        let box = Box()
        mutating func write(_ buffer: ByteBuffer) async throws {
            var buffer = buffer
            box.buffer.writeBuffer(&buffer)
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
