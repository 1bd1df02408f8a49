# frozen_string_literal: true

# Tarn's Ruby runtime: the Lambda Runtime API loop of AWS's Ruby runtimes, on any local Ruby.
# Handler `file.method` (a method of the top level) or `file.Module::Class.method`, called
# with `event:` and `context:`; errors as AWS reports them (Function<...>, Init<...>).
require 'json'
require 'net/http'
require 'time'

module TarnLambda
  API = "http://#{ENV.fetch('AWS_LAMBDA_RUNTIME_API')}/2018-06-01/runtime"

  # The context object of AWS's Ruby runtime.
  class Context
    attr_reader :aws_request_id, :invoked_function_arn, :log_group_name, :log_stream_name,
                :function_name, :memory_limit_in_mb, :function_version, :identity,
                :client_context, :deadline_ms

    def initialize(headers)
      @aws_request_id = headers['lambda-runtime-aws-request-id']
      @invoked_function_arn = headers['lambda-runtime-invoked-function-arn']
      @deadline_ms = headers['lambda-runtime-deadline-ms'].to_i
      @log_group_name = ENV['AWS_LAMBDA_LOG_GROUP_NAME']
      @log_stream_name = ENV['AWS_LAMBDA_LOG_STREAM_NAME']
      @function_name = ENV['AWS_LAMBDA_FUNCTION_NAME']
      @memory_limit_in_mb = ENV['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']
      @function_version = ENV['AWS_LAMBDA_FUNCTION_VERSION']
      @identity = parse(headers['lambda-runtime-cognito-identity'])
      @client_context = parse(headers['lambda-runtime-client-context'])
    end

    def get_remaining_time_in_millis
      [@deadline_ms - (Time.now.to_f * 1000).to_i, 0].max
    end

    private

    def parse(text)
      text && !text.empty? ? JSON.parse(text) : nil
    end
  end

  module_function

  def request(method, path, body = nil, headers = {})
    uri = URI("#{API}#{path}")
    @http ||= Net::HTTP.start(uri.host, uri.port, read_timeout: nil)
    request = method == :get ? Net::HTTP::Get.new(uri) : Net::HTTP::Post.new(uri, headers)
    request.body = body if body
    @http.request(request)
  end

  def error_body(error, prefix)
    {
      errorMessage: error.message,
      errorType: "#{prefix}<#{error.class}>",
      stackTrace: error.backtrace || []
    }
  end

  def log_error(request_id, body)
    stamp = Time.now.utc.strftime('%Y-%m-%dT%H:%M:%S.%LZ')
    $stdout.puts("#{stamp} #{request_id} ERROR #{JSON.generate(body)}")
    $stdout.flush
  end

  # The handler as a callable: `file.method` or `file.Module::Class.method`.
  def load_handler(name)
    file, _, target = name.rpartition('.')
    raise ArgumentError, "Malformed handler name: #{name}" if file.empty? || target.empty?

    receiver_path, _, method = target.rpartition('.')
    if receiver_path.empty? && file.include?('.') # file.Module::Class.method
      file, _, receiver_path = file.partition('.')
    end
    require File.join(ENV.fetch('LAMBDA_TASK_ROOT', Dir.pwd), file)
    receiver = receiver_path.empty? ? TOPLEVEL_BINDING.receiver : Object.const_get(receiver_path)
    unless receiver.respond_to?(method, true)
      raise NameError, "undefined method `#{method}' for #{receiver_path.empty? ? 'main' : receiver_path}"
    end

    receiver.method(method)
  end

  def init
    $LOAD_PATH.unshift(ENV.fetch('LAMBDA_TASK_ROOT', Dir.pwd))
    $stdout.sync = true
    $stderr.sync = true
    load_handler(ENV.fetch('_HANDLER'))
  rescue Exception => e # rubocop:disable Lint/RescueException: a SyntaxError, a LoadError
    body = error_body(e, 'Init')
    log_error('', body)
    request(:post, '/init/error', JSON.generate(body),
            'Content-Type' => 'application/json', 'Lambda-Runtime-Function-Error-Type' => body[:errorType])
    exit!(1)
  end

  def serve(handler)
    loop do
      response = request(:get, '/invocation/next')
      headers = response.each_header.to_h
      context = Context.new(headers)
      ENV['_X_AMZN_TRACE_ID'] = headers['lambda-runtime-trace-id'] || ''
      invoke(handler, response.body, context)
    end
  end

  def invoke(handler, payload, context)
    id = context.aws_request_id
    event = JSON.parse(payload)
    result = handler.call(event: event, context: context)
    request(:post, "/invocation/#{id}/response", JSON.generate(result),
            'Content-Type' => 'application/json')
  rescue StandardError, ScriptError, SystemStackError, NoMemoryError => e
    body = error_body(e, 'Function')
    log_error(id, body)
    request(:post, "/invocation/#{id}/error", JSON.generate(body),
            'Content-Type' => 'application/json', 'Lambda-Runtime-Function-Error-Type' => body[:errorType])
  end
end

TarnLambda.serve(TarnLambda.init)
